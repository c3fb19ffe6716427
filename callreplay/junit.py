"""JUnit XML for CI: one testcase per scenario and profile, findings in the failure message."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from .redact import redact_text
from .runner import Outcome
from .summary import failure_lines


def junit_xml(outcomes: list[Outcome], *, show_pii: bool = False) -> str:
    suite = ET.Element("testsuite", name="callreplay", tests=str(len(outcomes)),
                       failures=str(sum(o.status == "fail" for o in outcomes)),
                       errors=str(sum(o.status == "error" for o in outcomes)),
                       skipped=str(sum(o.status == "skipped" for o in outcomes)))
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname=o.file, name=f"{o.scenario} [{o.profile}]",
                             time=f"{o.wall_s:.3f}")
        clean = (lambda s: s) if show_pii else redact_text
        if o.status == "fail":
            lines = failure_lines(o)
            node = ET.SubElement(case, "failure", message=clean(lines[0] if lines else "expectation not met"))
            node.text = clean("\n".join(lines))
        elif o.status == "error":
            node = ET.SubElement(case, "error", message=clean(o.error or "error"))
            node.text = clean(o.error or "")
        elif o.status == "skipped":
            ET.SubElement(case, "skipped", message=o.error or "")
        if o.findings:
            out = ET.SubElement(case, "system-out")
            out.text = clean("\n".join(f"{f.severity.value} {f.detector} {f.call or '-'} {f.message}"
                                       for f in o.findings))
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
