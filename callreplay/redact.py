"""Masking of phone numbers and credentials in everything written to the report directory.

Recorded phone numbers and Twilio credentials never reach a report unredacted unless the user
passes ``--show-pii``. A number keeps its first four characters and last two digits
(``+972*******67``) so calls remain tellable apart; credentials become ``[redacted]``.

This masker errs broad (grouped E.164, any ``0X-XXX-XXXX`` form) because masking a little too much
is harmless. :mod:`callreplay.capture.redact` recognises numbers more strictly on purpose: it
replaces them with pseudonyms that tenant routing depends on, so joining two numbers would break
a replay. Every form it pseudonymises, this one masks.
"""

from __future__ import annotations

import re
from typing import Any

from .pipeline.outbound_http import AUTH_TOKEN

_PHONE = re.compile(r"(?<![\w+])(\+\d[\d\- ]{6,17}\d|0\d{1,2}-?\d{3}-?\d{4})(?![\w])")
_SECRET_KEYS = re.compile(r"(?i)(auth[_-]?token|authorization|x-twilio-signature|api[_-]?key|password|secret)")
_SECRET_VALUES = re.compile(r"\bSK[0-9a-fA-F]{32}\b")


def mask_phone(number: str) -> str:
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    keep = set(range(min(4, len(number)))) | set(digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(number))


def redact_text(text: str) -> str:
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    text = _SECRET_VALUES.sub("[redacted]", text)
    return text.replace(AUTH_TOKEN, "[redacted]")


def redact(obj: Any) -> Any:
    """A copy of a JSON-like value with phone numbers masked and secret-looking keys' values removed."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {k: ("[redacted]" if isinstance(k, str) and _SECRET_KEYS.search(k) else redact(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    return obj
