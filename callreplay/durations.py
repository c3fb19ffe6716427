"""Durations as scenarios write them (``250ms``, ``1.5s``, ``10m``, ``2h`` or a bare number of seconds).

Internally every time is an integer number of microseconds: exact, hashable, and the same on
every machine, which is what keeps traces byte-identical.
"""

from __future__ import annotations

import math
import re

US_PER_MS = 1_000
US_PER_S = 1_000_000

_UNITS = {"us": 1, "ms": US_PER_MS, "s": US_PER_S, "m": 60 * US_PER_S, "h": 3600 * US_PER_S}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)?\s*$")
_COMPOUND = re.compile(r"^\s*(?:\d+(?:\.\d+)?(?:us|ms|s|m|h)\s*){2,}$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")


MAX_DURATION_US = 100_000 * 3600 * US_PER_S   # ~11 years: beyond any call, far below datetime's range


def _bounded(us: float, value: object) -> int:
    if not math.isfinite(us):
        raise ValueError(f"{value!r} is not a finite duration")
    if us > MAX_DURATION_US:
        raise ValueError(f"{value!r} is longer than 100000h")
    return round(us)


def parse_duration(value: object) -> int:
    """Return ``value`` in microseconds; raise ValueError with the accepted forms on bad input."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        if isinstance(value, int) and value > MAX_DURATION_US:
            raise ValueError(f"{value!r} is longer than 100000h")
        return _bounded(float(value) * US_PER_S, value)
    if isinstance(value, str) and len(value) <= 200:
        match = _PATTERN.match(value)
        if match:
            number, unit = match.groups()
            return _bounded(float(number) * _UNITS[unit or "s"], value)
        if _COMPOUND.match(value):
            return sum(_bounded(float(n) * _UNITS[u], value) for n, u in _PART.findall(value))
    raise ValueError(f"{value!r} is not a duration")


DURATION_FORMS = "a duration such as 250ms, 1.5s, 10m, 2h, 1h30m or a number of seconds"


def format_us(us: int) -> str:
    """Render microseconds as a compact human duration: ``601.52s``, ``25m03.2s``, ``120ms``."""
    sign = "-" if us < 0 else ""
    us = abs(us)
    if us < US_PER_S:
        return f"{sign}{us / US_PER_MS:g}ms"
    seconds = us / US_PER_S
    if seconds < 60:
        return f"{sign}{seconds:.2f}s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{sign}{int(minutes)}m{rest:04.1f}s"
    hours, minutes = divmod(int(minutes), 60)
    return f"{sign}{hours}h{minutes:02d}m{rest:04.1f}s"
