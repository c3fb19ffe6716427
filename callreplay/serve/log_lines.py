"""``callreplay serve`` prints the model's log lines, as the pipeline it models prints them.

A real server's log is what live mode reads for the log-tag detectors (``[PROMPT FALLBACK]``,
``[PROMPT_MISMATCH] ... action=``): printed here, ``callreplay exec`` captures them from the stand-in
exactly as from a user's server. The line shape is the built-in ``prosaas`` format's
(``2026-01-08 10:00:00,123 INFO message``).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from ..trace import Trace, TraceEvent

LEVELS = {"PRINT": "INFO", "OUT": "INFO"}  # the spec's print() and _orig_print() lines carry no level


class PrintedLogTrace(Trace):
    """The model's trace; each ``log`` event is also written to ``out`` (stdout) as it happens."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__()
        self.out = out

    def emit(self, t_us: int, call: str | None, component: str, kind: str, **data: Any) -> TraceEvent:
        event = super().emit(t_us, call, component, kind, **data)
        if kind == "log":
            now = datetime.now(UTC)
            level = str(data.get("level", "INFO"))
            out = self.out or sys.stdout
            out.write(f"{now:%Y-%m-%d %H:%M:%S},{now.microsecond // 1000:03d} {LEVELS.get(level, level)} "
                      f"{data.get('message', '')}\n")
            out.flush()
        return event
