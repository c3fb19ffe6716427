"""Latency metrics as voice-agent tests state them, computed from trace events only.

Two metrics, per call:

* ``first-model-audio``: from the stream's ``start`` (Twilio's ``start`` message arriving,
  ``ws.in`` event ``start``) to the first model audio the application sends back to Twilio
  (``ws.out`` event ``media``).
* ``reply-latency``: from the end of each caller turn (``realtime.speech_stopped``) to the first
  model audio sent after it. A turn the caller resumes before any reply (``speech_started``) is
  not a turn end; a turn still unanswered when the call closes is judged only if the call stayed
  open longer than the bound.

Times are the trace's ``t_us``: virtual time in-process, wall time in live mode, so the same
metric reads both.
"""

from __future__ import annotations

from dataclasses import dataclass

from .trace import Trace, TraceEvent

FIRST_MODEL_AUDIO = "first-model-audio"
REPLY_LATENCY = "reply-latency"
METRICS = (FIRST_MODEL_AUDIO, REPLY_LATENCY)


@dataclass(frozen=True)
class Measurement:
    """One measured interval of a call; ``end_us`` None means the awaited audio never came."""

    metric: str
    call: str
    start_us: int
    end_us: int | None
    call_end_us: int | None = None

    @property
    def latency_us(self) -> int | None:
        return None if self.end_us is None else self.end_us - self.start_us


def _is_model_audio(event: TraceEvent) -> bool:
    return event.kind == "ws.out" and event.data.get("event") == "media"


def _by_call(trace: Trace) -> dict[str, list[TraceEvent]]:
    calls: dict[str, list[TraceEvent]] = {}
    for event in trace:
        if event.call:
            calls.setdefault(event.call, []).append(event)
    return calls


def _call_end(events: list[TraceEvent]) -> int | None:
    ends = [e.t_us for e in events if e.kind == "ws.closed"]
    return ends[0] if ends else None


def first_model_audio(trace: Trace) -> list[Measurement]:
    """One measurement per call that received a ``start``."""
    out = []
    for call, events in _by_call(trace).items():
        start = next((e for e in events if e.kind == "ws.in" and e.data.get("event") == "start"), None)
        if start is None:
            continue
        audio = next((e for e in events if _is_model_audio(e) and e.seq > start.seq), None)
        out.append(Measurement(FIRST_MODEL_AUDIO, call, start.t_us, audio.t_us if audio else None,
                               _call_end(events)))
    return out


def reply_latencies(trace: Trace) -> list[Measurement]:
    """One measurement per caller turn end, in trace order."""
    out = []
    for call, events in _by_call(trace).items():
        pending: TraceEvent | None = None
        for event in events:
            if event.kind == "realtime.speech_stopped":
                pending = event
            elif event.kind == "realtime.speech_started":
                pending = None
            elif pending is not None and _is_model_audio(event):
                out.append(Measurement(REPLY_LATENCY, call, pending.t_us, event.t_us))
                pending = None
        if pending is not None:
            out.append(Measurement(REPLY_LATENCY, call, pending.t_us, None, _call_end(events)))
    return out


def measure(trace: Trace, metric: str) -> list[Measurement]:
    """Every measurement of ``metric`` in the trace (KeyError for an unknown metric)."""
    return {FIRST_MODEL_AUDIO: first_model_audio, REPLY_LATENCY: reply_latencies}[metric](trace)
