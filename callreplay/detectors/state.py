"""What the application stored about a call: its direction and whether the record was finalised.

Both bug classes are invisible in the prompt: a call record that keeps Twilio's raw ``outbound-api`` (or
``unknown`` for a webhook without ``Direction``) is read as inbound by the next component that asks, and
a record left ``in-progress`` after the caller hung up counts against concurrency limits and reports
forever. They are read from probe steps (the target's stored state, or the model's store in-process),
from the direction the application bound on the wire (the TwiML's stream parameter), and in-process
from the model's call-log writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..durations import format_us
from ..probes import LIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES
from ..trace import TraceEvent
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .view import TraceView

DIRECTIONS = ("inbound", "outbound")
STREAM_VERBS = ("ConnectStream", "StartStream")


def last_by_call(events: Iterable[TraceEvent]) -> dict[str, TraceEvent]:
    out: dict[str, TraceEvent] = {}
    for e in events:
        if e.call:
            out[e.call] = e
    return out


def bound_stream_parameters(view: TraceView) -> list[tuple[TraceEvent, dict[str, str]]]:
    """The ``<Parameter>``s of each stream the application's TwiML opened (in-process and live shapes)."""
    found = []
    for e in view.events("webhook.response"):
        params = e.data.get("stream_parameters")
        if e.call and isinstance(params, dict) and params:
            found.append((e, params))
    for e in view.events("twiml.verb"):
        params = e.data.get("parameters")
        if e.call and e.data.get("verb") in STREAM_VERBS and isinstance(params, dict) and params:
            found.append((e, params))
    return found


def _direction_evidence(view: TraceView) -> dict[str, list[tuple[TraceEvent, Evidence, str]]]:
    per_call: dict[str, list[tuple[TraceEvent, Evidence, str]]] = {}

    def add(e: TraceEvent, source: str, value: object, text: str) -> None:
        assert e.call is not None
        per_call.setdefault(e.call, []).append((e, Evidence(source, text, (e.seq,), {"value": value}), source))

    for e in last_by_call(view.events("calllog.upsert")).values():
        value = e.data.get("direction")
        if value not in DIRECTIONS:
            add(e, "call-log", value, f"the call log row keeps direction {value!r} (Twilio's Direction: "
                f"{e.data.get('twilio_direction')!r}) at {format_us(e.t_us)}")
    for e in view.events("call.direction_locked"):
        value = e.data.get("direction")
        if e.call and value not in DIRECTIONS:
            add(e, "bound", value, f"the media handler locked the call's direction as {value!r}")
    for e, params in bound_stream_parameters(view):
        value = params.get("direction")
        if value is not None and value not in DIRECTIONS:
            add(e, "stream-parameter", value, f"the TwiML passed the stream parameter direction={value!r}")
    for e in last_by_call(p for p in view.events("probe.result") if p.data.get("found")).values():
        value = e.data.get("direction")
        if "direction" in e.data and value not in DIRECTIONS:
            add(e, "stored", value, f"the stored call record says direction {value!r} ({e.data.get('via')} "
                f"{e.data.get('target')} at {format_us(e.t_us)})")
    return per_call


class DirectionUnknown(BaseDetector):
    id = "direction-unknown"
    needs = frozenset({Needs.WIRE})
    summary = "a call's stored or bound direction is neither inbound nor outbound"
    why = ("Twilio's raw values (outbound-api, outbound-dial) or a missing Direction left as unknown are read as "
           "inbound by whatever asks next: the outbound call gets the inbound script, reports count it wrongly.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for call, items in _direction_evidence(view).items():
            items.sort(key=lambda item: item[0].seq)
            first = items[0][0]
            values = {source: ev.data["value"] for _, ev, source in items}
            yield self.finding(view, call, first.t_us,
                               f"call {call}: direction {items[0][1].data['value']!r} is neither inbound nor outbound "
                               f"({', '.join(sorted(values))})", *(ev for _, ev, _ in items), values=values)


def _status_callbacks(view: TraceView, call: str) -> list[tuple[TraceEvent, str]]:
    """The call-status callbacks the application was sent for this call, in order, with their CallStatus: the
    model's call_status route, Twilio's own callbacks live, and a scenario's webhook steps to a path of the
    user's server for a call already under way (live purpose "webhook") that carry a CallStatus."""
    out = []
    for e in view.events("webhook.request"):
        if e.call != call or not (e.data.get("route") == "call_status"
                                  or e.data.get("purpose") in ("status-callback", "webhook")):
            continue
        status = (e.data.get("form") or {}).get("CallStatus") or (e.data.get("query") or {}).get("CallStatus")
        if status:
            out.append((e, str(status)))
    return out


def _cause(callbacks: list[tuple[TraceEvent, str]], ended_us: int, probed_us: int) -> str:
    """Why the record is not final, as far as the callbacks the application was sent tell."""
    late = [(e, s) for e, s in callbacks if e.t_us > probed_us and s in TERMINAL_CALL_STATUSES]
    if late:
        return (f"the {late[0][1]!r} callback came late, at {format_us(late[0][0].t_us)} "
                f"({format_us(late[0][0].t_us - ended_us)} after the call ended)")
    statuses = [s for e, s in callbacks if e.t_us <= probed_us]
    terminal = [i for i, s in enumerate(statuses) if s in TERMINAL_CALL_STATUSES]
    if not terminal:
        return "no terminal status callback reached it" + (f" (it was sent: {', '.join(statuses)})" if statuses else
                                                           " (none was sent)")
    if terminal[-1] < len(statuses) - 1:
        return (f"a {statuses[-1]!r} callback arrived after {statuses[terminal[-1]]!r} (out of order) and "
                "overwrote it")
    return f"the {statuses[terminal[-1]]!r} callback reached the application and was not applied"


class CallNotFinalized(BaseDetector):
    id = "call-not-finalized"
    needs = frozenset({Needs.STATE})
    summary = "a call's stored record still says it is in progress after the call ended"
    why = ("A status callback that is late, missing, out of order or ignored leaves the record in-progress: "
           "it holds a concurrency slot, shows as a live call and is never billed or reported as ended.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for call, info in view.calls.items():
            if info.ended_us is None or info.ended_seq is None:
                continue
            after = [e for e in view.events("probe.result") if e.call == call and e.t_us >= info.ended_us
                     and e.data.get("found") and e.data.get("status") is not None]
            if not after:
                continue
            probe = after[-1]
            status = probe.data["status"]
            if status not in LIVE_CALL_STATUSES:
                continue  # final, or a word of the application's own that says nothing either way
            callbacks = _status_callbacks(view, call)
            cause = _cause(callbacks, info.ended_us, probe.t_us)
            yield self.finding(
                view, call, probe.t_us,
                f"call {call} ended at {format_us(info.ended_us)} but its stored status is still {status!r} at "
                f"{format_us(probe.t_us)}: {cause}",
                Evidence("ended", f"the call ended at {format_us(info.ended_us)} ({info.end_reason})",
                         (info.ended_seq,)),
                Evidence("stored", f"{probe.data.get('via')} {probe.data.get('target')} read status {status!r}",
                         (probe.seq,), {"status": status, "raw": probe.data.get("raw")}),
                Evidence("callbacks", cause, tuple(e.seq for e, _ in callbacks),
                         {"statuses": [s for _, s in callbacks]}),
                *_scripted(view, call),
                status=status, statuses=[s for _, s in callbacks], ended_us=info.ended_us)


def _scripted(view: TraceView, call: str) -> list[Evidence]:
    """Live: the callbacks the scenario itself made late, missing or out of order (``status_callbacks:``)."""
    events = [e for e in view.events("callback.scripted") if e.call == call and e.data.get("effect") != "sent-out-of-order"]
    if not events:
        return []
    return [Evidence("scripted", "the scenario's status_callbacks: " + ", ".join(
        f"{e.data.get('event')} {e.data.get('effect')}" for e in events), tuple(e.seq for e in events))]
