"""Masks for everything written to the report directory: results, traces, pages, CSV, JUnit.

Recorded phone numbers and credentials never reach a report unredacted unless the user passes
``--show-pii``. A number keeps its first four characters and last two digits (``+972*******67``) so
calls stay tellable apart; a credential becomes ``[redacted]``. What counts as either is decided
by :mod:`callreplay.privacy`, the same finder the capture side uses for its pseudonyms.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .privacy.line_scan import lines_to_check
from .privacy.phones import replace_phones
from .privacy.secrets import REDACTED, is_secret_key, remove_secrets

MIN_PRIVATE_CHARS = 7  # the shortest text that can hold a phone number (7 digits)


def mask_phone(number: str) -> str:
    """A number with all but its first four characters and last two digits starred."""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    keep = set(range(min(4, len(number)))) | set(digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(number))


def redact_text(text: str) -> str:
    """Free text for a report: phones masked, credentials removed."""
    if len(text) < MIN_PRIVATE_CHARS:
        return text
    return remove_secrets(replace_phones(text, lambda written, _e164: mask_phone(written)))


def redact(obj: Any) -> Any:
    """A copy of a JSON-like value with phones masked and credentials removed. Numbers and booleans
    stay as they are, so the copy has the same shape (a JSON number is never starred)."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {(redact_text(k) if isinstance(k, str) else k):
                (REDACTED if is_secret_key(k) and isinstance(v, str) and v else redact(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    return obj


def redact_json_lines(text: str, dumps: Callable[[Any], str]) -> str:
    """JSON Lines (a trace) redacted value by value. Only the lines the fast scan names are parsed;
    a line with nothing private stays byte-identical, a changed one is re-serialised with ``dumps``,
    and a line that is not JSON is masked as text."""
    touched = lines_to_check(text)
    if not touched:
        return text
    lines = text.split("\n")
    for index in touched:
        body = lines[index]
        try:
            value = json.loads(body)
        except ValueError:
            lines[index] = redact_text(body)
            continue
        clean = redact(value)
        if clean != value:
            lines[index] = dumps(clean)
    return "\n".join(lines)
