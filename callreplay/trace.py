"""The trace: every component of the modelled pipeline appends typed events here.

An event is ``(seq, t_us, call, component, kind, data)``: ``seq`` orders events that share a
microsecond, ``t_us`` is virtual time since the scenario's clock start, ``call`` the CallSid the
event belongs to (or ``None`` for shared state), ``data`` a JSON-able dict. Detectors and reports
read nothing else, so the trace is the contract between the model and everything after it.

Traces are written as canonical JSON Lines (sorted keys, no spaces, UTF-8) so that two replays of
the same scenario give byte-identical files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class TraceEvent:
    seq: int
    t_us: int
    call: str | None
    component: str
    kind: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return canonical_json({"seq": self.seq, "t_us": self.t_us, "call": self.call,
                               "component": self.component, "kind": self.kind, "data": self.data})

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> TraceEvent:
        return cls(obj["seq"], obj["t_us"], obj.get("call"), obj["component"], obj["kind"], obj.get("data") or {})


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Trace:
    """An append-only list of events with the lookups detectors need most."""

    def __init__(self, events: Iterable[TraceEvent] = ()) -> None:
        self.events: list[TraceEvent] = list(events)

    def emit(self, t_us: int, call: str | None, component: str, kind: str, **data: Any) -> TraceEvent:
        event = TraceEvent(len(self.events), t_us, call, component, kind, data)
        self.events.append(event)
        return event

    def __iter__(self) -> Iterator[TraceEvent]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def of_kind(self, *kinds: str) -> list[TraceEvent]:
        wanted = set(kinds)
        return [e for e in self.events if e.kind in wanted]

    def logs(self, tag: str | None = None) -> list[TraceEvent]:
        """Log events, optionally only those whose message contains ``tag`` (e.g. ``[PROMPT FALLBACK]``)."""
        return [e for e in self.events if e.kind == "log" and (tag is None or tag in e.data["message"])]

    def calls(self) -> list[str]:
        seen: dict[str, None] = {}
        for e in self.events:
            if e.call:
                seen.setdefault(e.call, None)
        return list(seen)

    # -- persistence -------------------------------------------------------------------------
    def dumps(self) -> str:
        buf = io.StringIO()
        for event in self.events:
            buf.write(event.to_json())
            buf.write("\n")
        return buf.getvalue()

    def write(self, path: Path) -> None:
        Path(path).write_text(self.dumps(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Trace:
        with open(path, encoding="utf-8") as fh:
            return cls(TraceEvent.from_dict(json.loads(line)) for line in fh if line.strip())

    def to_dataframe(self):
        """One row per event: seq, t_us, t_s, call, component, kind, data (dict) plus ``message`` for logs."""
        import pandas as pd

        rows = [{"seq": e.seq, "t_us": e.t_us, "t_s": e.t_us / 1e6, "call": e.call, "component": e.component,
                 "kind": e.kind, "message": e.data.get("message") if e.kind == "log" else None, "data": e.data}
                for e in self.events]
        return pd.DataFrame(rows, columns=["seq", "t_us", "t_s", "call", "component", "kind", "message", "data"])


def load_dataframe(path: Path):
    """Read a trace file written by a run straight into a pandas DataFrame."""
    return Trace.read(path).to_dataframe()
