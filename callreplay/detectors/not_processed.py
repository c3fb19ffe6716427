"""No false greens: a call the pipeline never processed is an error, not a PASS.

A replay in which the call is rejected at ``start`` (the business cannot be identified from the
start's parameters), or whose stream never delivers one inbound frame to the pipeline (no
``start`` reached it, every frame was ignored), checks nothing after ``start``: every detector is
silent, so the scenario would pass while proving nothing. This detector says so, and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..durations import format_us
from ..trace import TraceEvent
from .base import BaseDetector, Evidence, Finding, Severity
from .view import TraceView

# What the model reads from a start to find the business (media_handler._on_start / _identify_business).
INBOUND_KEYS = ("To", "Called", "to", "called")
OUTBOUND_KEYS = ("business_id",)


def _in_order(view: TraceView, *kinds: str) -> list[TraceEvent]:
    """The events of several kinds in trace order (the view indexes them by kind)."""
    return sorted((e for kind in kinds for e in view.events(kind)), key=lambda e: e.seq)


def _frames_sent(view: TraceView) -> dict[str, tuple[int, list[int]]]:
    """Per call, the media frames the Twilio side sent and the trace seqs that sent them."""
    sent: dict[str, tuple[int, list[int]]] = {}
    for e in _in_order(view, "ws.media", "ws.in"):
        count = 0
        if e.component == "twilio" and e.kind == "ws.media":
            count = int(e.data.get("frames") or 0)
        elif e.component == "twilio" and e.kind == "ws.in" and e.data.get("event") == "media":
            count = 1
        if count and e.call:
            total, seqs = sent.get(e.call, (0, []))
            sent[e.call] = (total + count, seqs + [e.seq] if len(seqs) < 5 else seqs)
    return sent


def missing_start_parameters(params: dict[str, Any], direction: str | None, to: str | None) -> list[str]:
    """The start parameters the model would need to identify the business and are absent or empty."""
    if direction == "outbound":
        return [k for k in OUTBOUND_KEYS if not params.get(k)]
    if to:
        return []
    return ["customParameters.To (or Called, or start.to)"]


class CallNotProcessed(BaseDetector):
    id = "call-not-processed"
    summary = "a call was rejected at start for missing parameters, or no inbound frame reached the pipeline"
    why = ("Nothing after start was checked: every other detector is silent for such a call, so the replay "
           "would pass while proving nothing. Usually the start lacks what the model reads "
           "(customParameters To/business_id), or the stream never started.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        sent = _frames_sent(view)
        started = {e.call: e for e in view.events("call.started") if e.call}
        rejected = {e.call: e for e in view.events("call.rejected") if e.call}
        ended = {e.call: e for e in view.events("call.ended") if e.call}
        for call, event in rejected.items():
            finding = self._rejected(view, call, event, started.get(call))
            if finding is not None:
                yield finding
        for call, (frames, seqs) in sorted(sent.items()):
            if call in rejected:
                continue
            if call not in started:
                yield self.finding(view, call, view.trace.events[seqs[0]].t_us if seqs else 0,
                                   f"call {call}: {frames} inbound frames were sent but no start reached the "
                                   "pipeline, so none was processed",
                                   Evidence("media", f"{frames} frames sent on a stream that never started",
                                            tuple(seqs), {"frames_sent": frames}), frames_sent=frames)
                continue
            end = ended.get(call)
            if end is None:
                continue  # the call is still live at the end of the replay: its frames may yet be read
            received = int((end.data.get("counters") or {}).get("rx") or 0)
            if received == 0:
                dropped = [e.seq for e in _in_order(view, "ws.dropped", "ws.ignored", "ws.protocol")
                           if e.call == call][:5]
                yield self.finding(view, call, started[call].t_us,
                                   f"call {call}: {frames} inbound frames were sent after start but none reached "
                                   "the pipeline (see the dropped/ignored/protocol events)",
                                   Evidence("media", f"{frames} frames sent, 0 received by the media handler",
                                            tuple(seqs + dropped), {"frames_sent": frames, "frames_received": 0}),
                                   frames_sent=frames)

    def _rejected(self, view: TraceView, call: str, event: Any, start: Any) -> Finding | None:
        """A rejection because the start lacks what the model reads; a number that matches no business is the
        isolation rule working (tenant scenarios test it), not a replay that proved nothing."""
        params = dict((start.data.get("custom_parameters") or {}) if start else {})
        direction = start.data.get("direction") if start else None
        to = start.data.get("to") if start else None
        missing = missing_start_parameters(params, direction, to)
        if not missing:
            return None
        reason = event.data.get("reason", "rejected")
        why = f"the start lacks {', '.join(missing)}"
        present = ", ".join(sorted(params)) or "none"
        evidence = [Evidence("rejected", f"the pipeline rejected the call at {format_us(event.t_us)}: {reason}",
                             (event.seq,), {"reason": reason})]
        if start is not None:
            evidence.append(Evidence("start", f"start customParameters: {present}; direction {direction}",
                                     (start.seq,), {"custom_parameters": sorted(params), "direction": direction}))
        return self.finding(view, call, event.t_us, f"call {call} was rejected at start ({reason}): {why}; "
                            "nothing after start was processed", *evidence, reason=reason, missing=missing)
