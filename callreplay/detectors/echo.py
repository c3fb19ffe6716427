"""The bot hearing itself: its own audio forwarded to the model, and turns it cut short on echo or noise.

Both read the wire only (``ws.in``/``ws.out`` media, the realtime session's audio and turn events, the
scenario's ground truth of what the caller's line carried), so they run live and in-process; the evidence of
what was the bot's own audio is in :mod:`.echo_match`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..durations import format_us
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .echo_match import ECHO_WINDOW_US, SLACK_US, echo_evidence
from .view import TraceView

TRIGGER_LINK_US = 1_000_000  # an interruption this soon after speech_started is that speech's doing
CAUSE_LOOKBACK_US = 500_000  # live: the audio that made the VAD fire arrived this long before its event at most


class EchoForwarded(BaseDetector):
    id = "echo-forwarded"
    needs = frozenset({Needs.WIRE})
    summary = "the bot's own audio (its outbound track, or an echo of it on the inbound track) reached the model as caller audio"
    why = ("The model takes its own voice for the caller's: it answers itself, barges in on itself and transcribes "
           "its own words into the conversation.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for call, found in echo_evidence(view).items():
            if found.outbound:
                ws_seq, audio_seq, t_us = found.outbound[0]
                yield self.finding(
                    view, call, t_us,
                    f"call {call}: {len(found.outbound)} of {found.outbound_sent} frame(s) of the outbound track (the "
                    "bot's own audio) were forwarded to the model as caller audio",
                    *(Evidence("outbound frame", "a track=outbound media message and the append that carried it",
                               (w, a)) for w, a, _ in found.outbound[:5]),
                    problem="outbound-track", frames=len(found.outbound), sent=found.outbound_sent)
            if found.echoes:  # at least two blocks at one delay: 200 ms of the bot's voice (echo_match)
                echoes = found.echoes
                delays = sorted(e.delay_us for e in echoes)
                score = sorted(e.score for e in echoes)[len(echoes) // 2]
                yield self.finding(
                    view, call, echoes[0].t_us,
                    f"call {call}: {len(echoes)} frame(s) forwarded to the model ({format_us(len(echoes) * 20_000)}) "
                    f"were an echo of the model's own audio played about {format_us(delays[len(delays) // 2])} "
                    f"earlier (median sign agreement {score:.2f})",
                    *(Evidence("echo", f"arrived {format_us(e.t_us)}, matches what Twilio played at "
                               f"{format_us(e.played_us)} ({e.score:.2f})", (e.seq,)) for e in echoes[:5]),
                    problem="echo", frames=len(echoes), checked=found.checked,
                    delay_us=delays[len(delays) // 2], score=score)


class SelfInterruption(BaseDetector):
    id = "self-interruption"
    needs = frozenset({Needs.WIRE})
    summary = "a model turn cut short by echo or line noise inside the echo window, not by the caller speaking"
    why = ("The caller hears the bot stop mid-sentence, again and again: its own echo or background noise is taken "
           "for a barge-in while it speaks.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        echoes = {call: [(e.t_us, e.seq) for e in found.echoes] for call, found in echo_evidence(view).items()}
        playing = _playing(view)
        spans = _line_spans(view)
        reported: set[int] = set()
        for stop in _interruptions(view):
            call = stop.call
            trigger = _trigger(view, call, stop.t_us)
            if call is None or trigger is None or trigger.seq in reported:
                continue
            heard = int(trigger.data.get("trigger_us", trigger.t_us))
            if not any(a <= heard <= b + ECHO_WINDOW_US for a, b in playing.get(call, [])):
                continue  # the model was not speaking: whatever this was, echo cannot have caused it
            exact = "onset_us" in trigger.data
            first = int(trigger.data["onset_us"]) if exact else heard - CAUSE_LOOKBACK_US
            cause = _cause(first, heard, exact, echoes.get(call, []), spans.get(call, {}))
            if cause is None:
                continue
            reported.add(trigger.seq)
            what, seqs = cause
            yield self.finding(
                view, call, stop.t_us,
                f"call {call}: the model's turn was cut short at {format_us(stop.t_us)} by {what} on the caller's "
                "line while the model spoke, not by the caller",
                Evidence("speech_started", f"the VAD fired at {format_us(heard)}", (trigger.seq,)),
                Evidence("interruption", _describe(stop), (stop.seq,)),
                *((Evidence(what, f"{what} on the line in the audio that made the VAD fire", seqs[:5]),) if seqs else ()),
                cause=what, heard_us=heard)


def _interruptions(view: TraceView) -> list:
    """Turns cut short: cancelled at the model (barge-in), or Twilio's playback cleared with audio queued."""
    stops = [e for e in view.events("realtime.response_done")
             if e.data.get("status") == "cancelled" or (e.data.get("cancelled") and e.data.get("why") == "barge-in")]
    stops += [e for e in view.events("ws.out") if e.data.get("event") == "clear" and (e.data.get("dropped_us") or 0) > 0]
    return sorted(stops, key=lambda e: e.seq)


def _describe(stop) -> str:
    if stop.kind == "ws.out":
        return f"playback cleared with {format_us(int(stop.data.get('dropped_us') or 0))} of audio still queued"
    return "the response was cancelled"


def _trigger(view: TraceView, call: str | None, t_us: int):
    """The speech_started that led to an interruption at ``t_us`` (the latest one before it, if recent)."""
    before = [e for e in view.events("realtime.speech_started") if e.call == call and e.t_us <= t_us]
    return before[-1] if before and t_us - before[-1].t_us <= TRIGGER_LINK_US else None


def _playing(view: TraceView) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for e in view.events("ws.out"):
        if e.call and e.data.get("event") == "media" and e.data.get("plays_until_us") is not None:
            out.setdefault(e.call, []).append((int(e.data.get("plays_from_us") or e.t_us), int(e.data["plays_until_us"])))
    return out


def _line_spans(view: TraceView) -> dict[str, dict[str, list[tuple[int, int, int]]]]:
    """Per call, what the caller's line carried (the scenario's ground truth): speech and noise spans."""
    out: dict[str, dict[str, list[tuple[int, int, int]]]] = {}
    for e in view.events("ws.media"):
        if not e.call:
            continue
        for key, name in (("speech_spans", "speech"), ("noise_spans", "noise")):
            for first, last, _ in e.data.get(key) or []:
                out.setdefault(e.call, {}).setdefault(name, []).append((int(first), int(last), e.seq))
            if key in e.data:
                out.setdefault(e.call, {}).setdefault(name, [])
    return out


def _cause(first: int, heard: int, exact: bool, echo_frames: list[tuple[int, int]],
           spans: dict[str, list[tuple[int, int, int]]]
           ) -> tuple[str, tuple[int, ...]] | None:
    """Echo or noise in the audio that made the VAD fire, and no caller speech there; None otherwise.

    In-process the frames are known exactly (``exact``: the VAD's onset to its deciding frame) and must all be
    noise. On the wire the audio is located within a lookback and the line's spans are widened by the
    forwarding slack; any caller speech there means the caller may have barged in, which is never judged.
    """
    slack = 0 if exact else SLACK_US
    if any(a - slack <= heard and first <= b + slack for a, b, _ in spans.get("speech", [])):
        return None
    heard_echo = tuple(seq for t, seq in echo_frames if first <= t <= heard)
    if heard_echo:
        return "echo", heard_echo
    noise = spans.get("noise", [])
    if exact:
        covering = [seq for a, b, seq in noise if a <= first and heard <= b]
    else:
        covering = [seq for a, b, seq in noise if a - slack <= heard and first <= b + slack]
    return ("noise", tuple(covering)) if covering else None
