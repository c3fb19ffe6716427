"""Log formats: a timestamp prefix and named regular expressions, loaded from small YAML files.

A format is data, not code, so a user can describe another application's logs without writing
Python, and the built-in ``prosaas`` format goes through the same loader as theirs (it lives in
``callreplay/capture/formats/``). A format is checked when it is loaded: every regex must compile,
the timestamp regex must capture ``timestamp``, and each error names the file and the key.

A user's regex is untrusted: ``(a+)+$`` can take hours on one line with Python's ``re``. Patterns
are compiled with the ``regex`` module and every match runs under a time limit
(:data:`MATCH_TIMEOUT_S`); a line that exceeds it is a located error naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex

from ..capture_file import format_error, read_side_yaml

MATCH_TIMEOUT_S = 0.25


class RegexTimeout(ValueError):
    """A format's regex ran longer than :data:`MATCH_TIMEOUT_S` on one line."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the regex {key} took more than {MATCH_TIMEOUT_S}s on this line "
                         "(catastrophic backtracking?)")
        self.key = key


class BoundedPattern:
    """A compiled pattern whose ``match``/``search`` give up after :data:`MATCH_TIMEOUT_S`."""

    def __init__(self, key: str, pattern: str) -> None:
        self.key = key
        self.compiled = regex.compile(pattern, flags=regex.VERSION0)
        self.groupindex = self.compiled.groupindex
        self.pattern = pattern

    def match(self, text: str):
        return self._bounded(self.compiled.match, text)

    def search(self, text: str):
        return self._bounded(self.compiled.search, text)

    def _bounded(self, method, text: str):
        try:
            return method(text, timeout=MATCH_TIMEOUT_S)
        except TimeoutError:
            raise RegexTimeout(self.key) from None

FORMATS_DIR = Path(__file__).resolve().parent.parent / "formats"


@dataclass(frozen=True)
class LogFormat:
    name: str
    timestamp: BoundedPattern
    time_format: str | None
    timezone: str
    events: tuple[tuple[str, BoundedPattern], ...]
    source: Path | None = None       # the user's format file (an input the import must never overwrite)

    def parse_time(self, text: str) -> datetime:
        """The prefix's timestamp as an aware datetime (naive ones are in the format's time zone)."""
        text = text.replace("T", " ", 1) if self.time_format and "T" not in self.time_format else text
        value = datetime.strptime(text, self.time_format) if self.time_format else datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(self.timezone))
        return value


def builtin_formats() -> list[str]:
    return sorted(p.stem for p in FORMATS_DIR.glob("*.yaml"))


def load_format(name_or_path: str) -> LogFormat:
    """A built-in format by name, or a YAML file path."""
    path = Path(name_or_path)
    if not path.suffix and (FORMATS_DIR / f"{name_or_path}.yaml").is_file():
        path = FORMATS_DIR / f"{name_or_path}.yaml"
    elif not path.is_file():
        raise format_error(name_or_path, None, "no such log format",
                           "a built-in name (" + ", ".join(builtin_formats()) + ") or a YAML file")
    data = read_side_yaml(path, "timestamp: {regex, format}, events: {name: regex}")
    if not isinstance(data, dict) or not isinstance(data.get("timestamp"), dict) \
            or not isinstance(data.get("events"), dict) or not data["events"]:
        raise format_error(path, 1, "a log format needs 'timestamp' and 'events'",
                           "timestamp: {regex: ..., format: ...}, events: {name: regex, ...}")
    ts = data["timestamp"]
    ts_regex = _compile(path, "timestamp.regex", ts.get("regex"))
    if "timestamp" not in ts_regex.groupindex:
        raise format_error(path, None, "timestamp.regex has no (?P<timestamp>...) group", "a named group 'timestamp'")
    zone = str(ts.get("timezone", "UTC"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise format_error(path, None, f"timestamp.timezone {zone!r} is unknown", "an IANA name") from None
    events = tuple((str(name), _compile(path, f"events.{name}", regex)) for name, regex in data["events"].items())
    source = None if path.parent == FORMATS_DIR else path
    return LogFormat(str(data.get("name", path.stem)), ts_regex, ts.get("format"), zone, events, source)


def _compile(path: Path, key: str, pattern: object) -> BoundedPattern:
    if not isinstance(pattern, str) or not pattern:
        raise format_error(path, None, f"{key} is missing", "a regular expression")
    try:
        return BoundedPattern(key, pattern)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise format_error(path, None, f"{key} does not compile: {exc}", "a Python regular expression") from None
