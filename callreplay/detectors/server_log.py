"""The target's own log lines, as ``callreplay exec`` captured them, read by the spec's log tags.

In-process the model writes its log lines into the trace itself; a live trace has the real
server's stdout/stderr (component ``server``). Detectors that can work from log tags read them
through :func:`tagged_lines`, with the patterns of the built-in ``prosaas`` log format (the same
file ``callreplay import logs`` uses), so one description of the tags serves both.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from ..capture.importers.log_format import LogFormat, RegexTimeout, load_format
from ..trace import TraceEvent
from .view import TraceView

SERVER_COMPONENT = "server"


@cache
def _format() -> LogFormat:
    return load_format("prosaas")


def tagged_lines(view: TraceView, tag_event: str) -> Iterator[tuple[TraceEvent, dict[str, Any]]]:
    """Each captured server log line matching the format's ``tag_event`` pattern, with its named groups."""
    pattern = dict(_format().events)[tag_event]
    for event in view.events("log"):
        if event.component != SERVER_COMPONENT:
            continue
        try:
            match = pattern.search(str(event.data.get("message", "")))
        except RegexTimeout:
            continue
        if match is not None:
            yield event, {k: v for k, v in match.groupdict().items() if v is not None}


def call_of(view: TraceView, event: TraceEvent, logged_sid: str | None) -> str | None:
    """The call a line is about: the trace's attribution, else the one call whose sid the line's prefix starts."""
    if event.call:
        return event.call
    if logged_sid:
        matches = [c for c in view.calls if c.startswith(logged_sid.rstrip("."))]
        if len(matches) == 1:
            return matches[0]
    return None
