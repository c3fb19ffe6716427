"""The live trace: everything observed on the wire, stamped with wall time since the run started.

Live mode has no virtual clock: each event is stamped by ``time.monotonic_ns`` relative to the
replay's start, so figures carry network and scheduling jitter and the trace says so
(``replay.start`` has ``clock: wall``). Events from the realtime emulator arrive per connection,
before it is known which call a connection serves; they are kept with their connection id and
given their call when the trace is assembled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..trace import Trace, TraceEvent

CONN_PREFIX = "conn:"


@dataclass
class LiveRecorder:
    """Append-only; single-threaded (everything runs on one asyncio loop)."""

    t0_ns: int = field(default_factory=time.monotonic_ns)
    _rows: list[tuple[int, str | None, str, str, dict[str, Any]]] = field(default_factory=list)

    def now_us(self) -> int:
        return (time.monotonic_ns() - self.t0_ns) // 1000

    def us_at(self, monotonic_s: float) -> int:
        """A ``loop.time()``/``time.monotonic()`` reading as trace time."""
        return int(monotonic_s * 1e6) - self.t0_ns // 1000

    def emit(self, call: str | None, component: str, kind: str, **data: Any) -> None:
        self._rows.append((self.now_us(), call, component, kind, data))

    def emit_at(self, t_us: int, call: str | None, component: str, kind: str, **data: Any) -> None:
        self._rows.append((t_us, call, component, kind, data))

    def to_trace(self, connection_calls: dict[str, str]) -> Trace:
        """The rows in time order (ties keep arrival order), each connection's events under its call."""
        rows = sorted(enumerate(self._rows), key=lambda item: (item[1][0], item[0]))
        events = []
        for seq, (_, (t_us, call, component, kind, data)) in enumerate(rows):
            if call is not None and call.startswith(CONN_PREFIX):
                call = connection_calls.get(call[len(CONN_PREFIX):])
            events.append(TraceEvent(seq, max(t_us, 0), call, component, kind, data))
        return Trace(events)
