"""State probes: what a ``probe`` step reads, how its answer becomes typed trace fields, and what it may substitute.

Some bugs show only in what the server stored (the call record's direction or status, the business a lead
was written under). A probe reads that state once, at its step's time: live, by a GET to the target or a
command the user configured; in-process, from the model's own store. Both end as the same ``probe.result``
event, whose typed fields (``direction``, ``status``, ``business``, ``call_log_business``, ``lead_business``)
the detectors read, so one scenario means the same in both modes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

# typed field -> where it is in the answer by default (a dotted path; numbers index lists)
DEFAULT_PATHS: dict[str, str] = {"direction": "direction", "status": "status", "business": "business_id",
                                 "call_log_business": "call_log.business_id", "lead_business": "lead.business_id"}
PROBE_FIELDS = tuple(DEFAULT_PATHS)
BUSINESS_FIELDS = ("business", "call_log_business", "lead_business")
PLACEHOLDERS = ("call_sid", "business", "to", "from")
DEFAULT_TIMEOUT_US = 5_000_000
MAX_TIMEOUT_US = 30_000_000
MAX_OUTPUT_BYTES = 1024 * 1024   # more than this from the target is refused, not parsed
MAX_RAW_CHARS = 4096             # of the answer kept in the trace (canonical JSON)
TERMINAL_CALL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled", "ended")  # "ended": spec 3.4
# a stored status that says the call is still going (Twilio's spellings and the modelled app's); any other value
# is the application's own word and is not judged
LIVE_CALL_STATUSES = ("queued", "initiated", "ringing", "answered", "in-progress", "in_progress", "streaming")
# a substituted value lands in a URL path or a command's argument (perhaps an SQL string): only these shapes
SAFE_VALUE = re.compile(r"^[A-Za-z0-9_+.-]{1,64}$")


class ProbeError(Exception):
    """A probe could not be carried out or its answer not read; becomes a ``probe.failed`` event."""

    def __init__(self, reason: str, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.http_status = http_status


PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(text: str) -> list[str]:
    """The ``{name}`` placeholders of a probe path; other braces (JSON, SQL) are left alone."""
    return PLACEHOLDER.findall(text)


def substitute(text: str, values: Mapping[str, str | None]) -> str:
    """``text`` with each known placeholder replaced; a missing or unsafe value is a ProbeError, never a guess."""
    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = values.get(name)
        if value is None or value == "":
            raise ProbeError("no-value", f"{{{name}}} has no value for this call")
        if not SAFE_VALUE.match(value):
            raise ProbeError("unsafe-value", f"{{{name}}} = {value[:40]!r} is not a plain id or number; not substituted")
        return value
    return PLACEHOLDER.sub(value_of, text)


def parse_answer(body: bytes) -> Any:
    """The target's answer as JSON; too large or not JSON is a ProbeError."""
    if len(body) > MAX_OUTPUT_BYTES:
        raise ProbeError("too-large", f"the answer is over {MAX_OUTPUT_BYTES} bytes")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProbeError("not-json", f"the answer is not JSON: {str(exc)[:120]}") from None


def _lookup(document: Any, path: str) -> Any:
    value = document
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def _typed(name: str, value: Any) -> Any:
    """Business ids as ints where they are ("7" and 7 are one business); text as text; nested values refused."""
    if isinstance(value, (dict, list)):
        return None
    if name in BUSINESS_FIELDS and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value if not isinstance(value, str) else value[:200]
    return str(value)[:200]


def typed_fields(document: Any, paths: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The typed fields found in an answer (absent ones left out); a one-row list (``sqlite3 -json``) is its row."""
    if isinstance(document, list) and len(document) == 1:
        document = document[0]
    chosen = {**DEFAULT_PATHS, **(paths or {})}
    found = {}
    for name, path in chosen.items():
        value = _typed(name, _lookup(document, path))
        if value is not None:
            found[name] = value
    return found


def raw_excerpt(document: Any) -> tuple[str, bool]:
    """The answer as canonical JSON, cut to ``MAX_RAW_CHARS`` (and whether it was cut)."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return (text[:MAX_RAW_CHARS], True) if len(text) > MAX_RAW_CHARS else (text, False)


def result_data(document: Any, paths: Mapping[str, str] | None, **context: Any) -> dict[str, Any]:
    """The data of a ``probe.result`` event: what was asked, the typed fields and the bounded raw answer."""
    raw, truncated = raw_excerpt(document)
    found = document is not None
    fields = typed_fields(document, paths) if found else {}
    return {**context, "found": found, **fields, "raw": raw, "raw_truncated": truncated}
