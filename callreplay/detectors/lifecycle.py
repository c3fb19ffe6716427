"""Per-call state that outlives its call, and caller audio that breaks the rules of the stream."""

from __future__ import annotations

from collections.abc import Iterable

from ..durations import format_us
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .view import TraceView


class RegistryLeak(BaseDetector):
    id = "registry-leak"
    summary = "per-call registry state survived the call's end, or one call touched another call's state"
    why = "Hazard H9/R8: the registry has no TTL; an entry that outlives its call lives forever (or is read by another)."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for e in view.events("registry.set") + view.events("registry.get"):
            if e.call and e.data["sid"] != e.call:
                verb = "wrote" if e.kind == "registry.set" else "read"
                yield self.finding(view, e.call, e.t_us, f"call {e.call} {verb} registry state of {e.data['sid']!r} "
                                   f"(key {e.data['key']})", Evidence("access", f"{e.kind} sid={e.data['sid']} by "
                                                                     f"{e.call}", (e.seq,), dict(e.data)))
        for final in view.events("registry.final"):
            for sid, keys in final.data["entries"].items():
                info = view.calls.get(sid)
                if info is None:
                    why = "no call of that id exists"
                elif info.ended_us is not None:
                    why = f"its call ended at {format_us(info.ended_us)}"
                elif info.started_us is None:
                    why = "its call's stream never started"
                else:
                    continue  # the call is still live at the end of the scenario
                sets = [e.seq for e in view.events("registry.set") if e.data["sid"] == sid][-5:]
                yield self.finding(view, sid if info else None, final.t_us,
                                   f"registry entry {sid!r} ({', '.join(keys)}) survived: {why}",
                                   Evidence("entry", f"keys {keys} still present at the end of the replay",
                                            (final.seq, *sets), {"keys": keys}), sid=sid)


class AudioBeforePrompt(BaseDetector):
    id = "audio-before-prompt"
    needs = frozenset({Needs.WIRE})
    summary = "caller audio reached the realtime session before its instructions were set"
    why = "The model hears the caller with no (or default) instructions and may answer before the prompt applies."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        seen: set[str] = set()
        for e in view.events("realtime.audio_before_instructions"):
            if e.call is None or e.call in seen:
                continue
            seen.add(e.call)
            yield self.finding(view, e.call, e.data["first_us"], f"call {e.call}: {e.data['frames']} caller frames "
                               f"were appended at {format_us(e.data['first_us'])} before session.updated",
                               Evidence("append", "input_audio_buffer.append before the session was configured",
                                        (e.seq,), dict(e.data)))


class AudioProtocol(BaseDetector):
    id = "audio-protocol"
    needs = frozenset({Needs.WIRE})
    summary = "frames after stop, a second start, sequence numbers that go back or skip, bad payloads, unknown streams"
    why = "Media Streams guarantees order and framing; a violation means a broken recording, proxy or network path."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        grouped: dict[tuple, list] = {}
        for e in view.events("ws.protocol"):
            grouped.setdefault((e.call, e.data["problem"]), []).append(e)
        for (call, problem), events in grouped.items():
            count = sum(e.data.get("count", 1) for e in events)
            first = events[0]
            yield self.finding(view, call, first.data.get("at_us", first.t_us),
                               f"call {call}: {problem} x{count} (first at {format_us(first.data.get('at_us', first.t_us))})",
                               Evidence(problem, f"{count} occurrence(s); first: " + ", ".join(
                                   f"{k}={v}" for k, v in first.data.items() if k not in ("problem", "count")),
                                   tuple(e.seq for e in events[:20])), problem=problem, count=count)
