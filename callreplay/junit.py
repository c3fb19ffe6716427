"""JUnit XML for CI through ``junitparser``: one testcase per scenario and profile, findings in the failure.

XML 1.0 cannot carry most control characters (an ANSI colour code in a log line, a NUL in a
recorded name), and neither ElementTree nor junitparser refuses them, so every text and
attribute is made XML-safe first: such a character is written as its escape (``\\x1b``), which
keeps it visible to whoever reads the CI report.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from junitparser import Error, Failure, Skipped, TestCase, TestSuite

from .redact import redact_text
from .runner import Outcome
from .summary import failure_lines

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 forbids replaced by its Python-style escape."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def _testcase(o: Outcome, clean: Callable[[str], str]) -> TestCase:
    case = TestCase(xml_safe(f"{o.scenario} [{o.profile}]"), classname=xml_safe(o.file), time=round(o.wall_s, 3))
    if o.status == "fail":
        lines = failure_lines(o)
        failure = Failure(xml_safe(clean(lines[0] if lines else "expectation not met")))
        failure.text = xml_safe(clean("\n".join(lines)))
        case.result = [failure]
    elif o.status == "error":
        error = Error(xml_safe(clean(o.error or "error")))
        error.text = xml_safe(clean(o.error or ""))
        case.result = [error]
    elif o.status == "skipped":
        case.result = [Skipped(xml_safe(o.error or ""))]
    if o.findings:
        case.system_out = xml_safe(clean("\n".join(f"{f.severity.value} {f.detector} {f.call or '-'} {f.message}"
                                                   for f in o.findings)))
    return case


def junit_xml(outcomes: list[Outcome], *, show_pii: bool = False) -> str:
    """The whole run as one ``<testsuite>`` document (UTF-8 text, always well-formed XML)."""
    clean: Callable[[str], str] = (lambda s: s) if show_pii else redact_text
    suite = TestSuite("callreplay")
    for o in outcomes:
        suite.add_testcase(_testcase(o, clean))
    suite.update_statistics()
    buffer = io.BytesIO()
    suite.write(buffer, pretty=True)
    return buffer.getvalue().decode("utf-8")
