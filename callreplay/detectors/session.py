"""What the realtime session was given and how it ended: voice, complete instructions, closing on time.

All read the wire: the ``session.update``s as sent, the conversation items, and when the session
closed against when Twilio said the call was over; so they run on live traces and in-process alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..durations import format_us
from ..emulators.realtime.catalogue import VOICES
from ..pipeline.constants import replace_placeholders
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .fingerprint import candidate_texts
from .view import PROMPT_FIELDS, TraceView

CLOSE_WITHIN_US = 3_000_000
TAIL_WORDS = 6
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    if not needle:
        return True
    n = len(needle)
    first = needle[0]
    return any(haystack[i:i + n] == needle for i, w in enumerate(haystack) if w == first)


def _provider(view: TraceView, call: str | None) -> tuple[str, str]:
    connected = next((e for e in view.events("realtime.connected") if e.call == call), None)
    if connected is None:
        return "openai", "beta"  # the in-process model speaks the beta interface (spec §7.6)
    return str(connected.data.get("provider") or "openai"), str(connected.data.get("interface") or "beta")


class VoiceMismatch(BaseDetector):
    id = "voice-mismatch"
    needs = frozenset({Needs.WIRE})
    summary = "the session's voice is not the business's configured voice, or not one the provider offers"
    why = "Callers hear another persona than the business chose (a fallback voice, another tenant's, a typo)."
    severity = Severity.WARNING

    def check(self, view: TraceView) -> Iterable[Finding]:
        for e in view.events("realtime.session_update"):
            voice = e.data.get("voice")
            if not voice or e.call is None:
                continue
            info = view.calls.get(e.call)
            business = view.business_spec(info.business if info else None)
            provider, interface = _provider(view, e.call)
            catalogue = VOICES.get((provider, interface)) or VOICES.get((provider, "half_cascade")) or ()
            configured = business.voice if business is not None else None
            if business is not None and configured and voice != configured:
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: the session speaks with voice {voice!r}; "
                                   f"business {business.id} is configured with {configured!r}",
                                   Evidence("update", f"session.update voice={voice}", (e.seq,)),
                                   voice=voice, configured=configured)
            elif catalogue and voice not in catalogue:
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: voice {voice!r} is not a {provider} "
                                   f"{interface} voice", Evidence("update", f"voice={voice}", (e.seq,)),
                                   voice=voice, configured=configured)


class InstructionsIntegrity(BaseDetector):
    id = "instructions-integrity"
    needs = frozenset({Needs.WIRE})
    summary = ("the bound instructions are not the complete configured prompt: truncated, only the greeting, "
               "or server text injected as a caller turn")
    why = ("A cap that cuts the prompt's tail drops its rules (often the last ones: hand-off, consent); a greeting "
           "bound as the whole instructions leaves the model without a script; a user turn the caller never "
           "said steers the model with words nobody spoke.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for info in view.calls.values():
            field = PROMPT_FIELDS.get(info.direction or "")
            business = view.business_spec(info.business)
            if field is None or business is None:
                continue
            for binding in info.bindings:
                if binding.instructions is None:
                    continue
                configured = view.configured(info.business, binding.t_us)
                raw = configured.get(field)
                if not raw or not str(raw).strip():
                    continue  # nothing configured: missing-prompt's business, not this detector's
                yield from self._judge(view, info.sid, binding, raw, configured)
                break  # the first binding tells; later ones are re-sends of the same decision
        for e in view.events("realtime.item_created"):
            if e.data.get("role") == "user" and str(e.data.get("content") or "").strip():
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: the server added a user turn the caller "
                                   f"never said: {str(e.data.get('content'))[:120]!r}",
                                   Evidence("item", str(e.data.get("content"))[:300], (e.seq,)), problem="injected-turn")

    def _judge(self, view: TraceView, call: str, binding, raw: str, configured: dict) -> Iterable[Finding]:
        name = configured.get("name") or "Business"
        sent = _words(binding.instructions)
        candidates = [_words(text) for text in candidate_texts(raw, name)]
        candidates = [c for c in candidates if len(c) >= TAIL_WORDS]
        if not candidates:
            return
        info = view.calls[call]
        attribution = view.content_attribution(binding.instructions or "", info.business, binding.t_us)
        own = PROMPT_FIELDS[info.direction or "inbound"]
        best = max(candidates, key=lambda words: sum(1 for w in set(words) if w in set(sent)) / len(set(words)))
        greeting = _words(replace_placeholders(str(configured.get("greeting") or ""), name))
        if not attribution.present and greeting and _contains_run(sent, greeting[:TAIL_WORDS]):
            yield self.finding(view, call, binding.t_us, f"call {call}: the greeting sentence was bound as the whole "
                               f"instructions ({len(binding.instructions or '')} chars); the configured prompt is not "
                               "in them", Evidence("instructions", (binding.instructions or "")[:300], (binding.seq,)),
                               problem="greeting-only")
        elif own in attribution.present and not _contains_run(sent, best[-TAIL_WORDS:]):
            yield self.finding(view, call, binding.t_us, f"call {call}: the instructions end before the configured "
                               f"prompt does ({len(binding.instructions or '')} chars sent): its last words "
                               f"{' '.join(best[-TAIL_WORDS:])!r} are missing",
                               Evidence("instructions", "…" + (binding.instructions or "")[-200:], (binding.seq,)),
                               problem="truncated", sent_chars=len(binding.instructions or ""))


class SessionNotClosed(BaseDetector):
    id = "session-not-closed"
    needs = frozenset({Needs.WIRE})
    summary = "the realtime session was still open 3 s after Twilio's stop (or never closed)"
    why = "A session left open keeps billing, keeps the model listening and can leak into the next call's state."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        stops = {e.call: e for e in view.events("ws.closed") if e.data.get("reason") == "twilio_stop_event" and e.call}
        configured = {e.call for e in view.events("realtime.session_update")}
        for call, stop in stops.items():
            if call not in configured:
                continue  # no session was set up on this call, so none was left open
            closes = [e for e in view.events("realtime.closed") + view.events("realtime.session_closed")
                      if e.call == call]
            by_app = [e for e in closes if e.kind == "realtime.session_closed" or e.data.get("by") == "client"]
            closed = min((e.t_us for e in by_app), default=None)
            if closed is not None and closed - stop.t_us <= CLOSE_WITHIN_US:
                continue
            late = "never closed it" if closed is None else f"closed it {format_us(closed - stop.t_us)} later"
            yield self.finding(view, call, stop.t_us + CLOSE_WITHIN_US, f"call {call}: Twilio ended the stream at "
                               f"{format_us(stop.t_us)} and the application {late}",
                               Evidence("stop", "Twilio's stop", (stop.seq,)),
                               *(Evidence("close", f"{e.kind} by {e.data.get('by', 'app')}", (e.seq,)) for e in closes[:3]),
                               closed_us=closed)


class PrematureClose(BaseDetector):
    id = "premature-close"
    needs = frozenset({Needs.WIRE})
    summary = "the server ended a call (socket close, REST hang-up, <Hangup>) while the caller was still on the line"
    why = "The caller is cut off mid-conversation: a crash path, a wrong limit, an over-eager goodbye detector."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        """Only a call the model had begun to talk on can be cut off: a server closing before any model
        audio is refusing the call (an unknown number, say), which is its right."""
        scripted_end = _scripted_ends(view)
        spoke = view.first_model_audio()
        for e in view.events("ws.closed") + view.events("call.hangup_requested"):
            by_server = (e.kind == "ws.closed" and e.data.get("by") == "server") or \
                        (e.kind == "call.hangup_requested" and e.data.get("by") == "rest-api")
            if not by_server or e.call is None:
                continue
            end = scripted_end.get(e.call)
            if end is None or e.t_us >= end or spoke.get(e.call, e.t_us + 1) > e.t_us:
                continue
            what = "closed the media stream" if e.kind == "ws.closed" else "hung up through the REST API"
            yield self.finding(view, e.call, e.t_us, f"call {e.call}: the server {what} at {format_us(e.t_us)}, "
                               f"{format_us(end - e.t_us)} before the caller's side of the call ended",
                               Evidence("end", f"{e.kind} {e.data}", (e.seq,)), caller_end_us=end)


def _scripted_ends(view: TraceView) -> dict[str, int]:
    """When each call's caller side ends as the scenario scripts it (its last ws step or media frame)."""
    ends: dict[str, int] = {}
    for e in view.events("ws.media"):
        if e.call and e.data.get("last_us") is not None:
            ends[e.call] = max(ends.get(e.call, 0), int(e.data["last_us"]))
    for e in view.events("replay.step"):
        if e.call and e.data.get("action") == "ws":
            ends[e.call] = max(ends.get(e.call, 0), e.t_us - 50_000)  # a step's own jitter is not the server's
    return ends
