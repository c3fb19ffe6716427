"""What goes wrong on the wire between Twilio, the application and the realtime model.

These detectors read only what crosses a socket (webhooks and their answers, TwiML, Media Streams
messages, realtime-session events), so they run on live traces and in-process ones alike; where the
in-process model has no such mechanism the events are simply absent and the detector is silent.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..durations import format_us
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .view import TraceView

SILENT_AFTER_US = 5_000_000
CALLBACK_PURPOSES = ("connect-action", "redirect", "status-callback", "gather-action", "voice-url", "rest-update",
                     "webhook")


class TwimlInvalid(BaseDetector):
    id = "twiml-invalid"
    needs = frozenset({Needs.WIRE})
    summary = "TwiML that breaks Twilio's documented rules (verbs, attributes, Stream url/track, size, content type)"
    why = ("Twilio rejects or skips what it cannot parse: a <Connect><Stream> with a non-wss URL or an outbound track "
           "never connects, an unknown verb is skipped, a document that does not parse ends the call.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        by_call: dict[str | None, list] = {}
        for e in view.events("twiml.problem"):
            if e.data.get("code") in (11200,):  # a failed fetch: handler-crash / twiml-url-unroutable say it
                continue
            by_call.setdefault(e.call, []).append(e)
        for call, events in by_call.items():
            errors = [e for e in events if e.data.get("level") == "error"]
            worst = errors or events
            first = worst[0]
            codes = sorted({str(e.data.get("code")) for e in events})
            yield self.finding(
                view, call, first.t_us,
                f"call {call}: the application's TwiML breaks Twilio's rules ({len(events)} problem(s), codes "
                f"{', '.join(codes)}); first: {first.data.get('message')} at {first.data.get('location')}",
                *(Evidence(f"twiml {e.data.get('code')}", f"{e.data.get('level')}: {e.data.get('message')} "
                           f"({e.data.get('location')})", (e.seq,)) for e in events[:10]),
                severity=Severity.ERROR if errors else Severity.WARNING, codes=codes)


class TwimlUrlUnroutable(BaseDetector):
    id = "twiml-url-unroutable"
    needs = frozenset({Needs.WIRE})
    summary = "a URL the app hands to Twilio (action, statusCallback, Redirect, a REST call's Url) answers 404/405"
    why = ("Twilio requests the URLs an application gives it; one that matches no route loses the status, the next "
           "TwiML document or the whole call, and nothing in the application's own tests notices.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        requests: dict[str | None, list] = {}
        for e in view.events("webhook.request"):
            requests.setdefault(e.call, []).append(e)
        groups: dict[tuple, list] = {}
        for e in view.events("webhook.response"):
            if e.data.get("status") not in (404, 405):
                continue
            asked = [r for r in requests.get(e.call, []) if r.seq < e.seq and r.data.get("route") == e.data.get("route")]
            request = asked[-1] if asked else None
            path = request.data.get("path") if request else None
            groups.setdefault((e.call, path, e.data["status"]), []).append((request, e))
        for (call, path, status), pairs in groups.items():
            request, first = pairs[0]
            purpose = first.data.get("purpose") or first.data.get("route")
            method = request.data.get("method", "POST") if request else "POST"
            yield self.finding(
                view, call, first.t_us,
                f"call {call}: {len(pairs)} {method} request(s) to {path or '?'} ({purpose}) answered HTTP {status}: "
                "no route serves it",
                *(Evidence("request", f"{path} ({r.data.get('purpose') or r.data.get('route')}) -> HTTP {status}",
                           ((r.seq,) if r else ()) + (resp.seq,)) for r, resp in pairs[:5]),
                path=path, status=status, purpose=purpose, count=len(pairs))


class HandlerCrash(BaseDetector):
    id = "handler-crash"
    needs = frozenset({Needs.WIRE})
    summary = "a webhook answered 5xx or not at all, or the media socket was refused or closed with 1011"
    why = "Twilio plays the caller an application error and hangs up; the bug is in the handler, whatever it logged."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for e in view.events("webhook.response"):
            status = e.data.get("status") or 0
            if status >= 500:
                what = e.data.get("purpose") or e.data.get("route")
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: a webhook ({what}) answered HTTP {status}",
                                   Evidence("response", f"HTTP {status}: {str(e.data.get('body', ''))[:200]}", (e.seq,)),
                                   status=status, what="webhook")
        for e in view.events("webhook.failed"):
            yield self.finding(view, e.call, e.t_us, f"call {e.call}: a webhook ({e.data.get('purpose')}) failed: "
                               f"{e.data.get('message')} (Twilio error {e.data.get('code')})",
                               Evidence("request", str(e.data.get("message")), (e.seq,)), what="webhook",
                               code=e.data.get("code"))
        for e in view.events("ws.refused"):
            if e.data.get("code") == 31922:
                continue  # a URL Twilio would never open: twiml-invalid says why
            yield self.finding(view, e.call, e.t_us, f"call {e.call}: the media stream could not be opened: "
                               f"{e.data.get('message')} (Twilio error {e.data.get('code')})",
                               Evidence("stream", str(e.data.get("message")), (e.seq,)), what="stream",
                               code=e.data.get("code"))
        for e, last in _tracebacks(view):
            exception = str(last.data.get("message", ""))[:300]
            yield self.finding(view, e.call, e.t_us, "the server logged a Python traceback"
                               + (f" during call {e.call}" if e.call else "") + f": {exception}",
                               Evidence("log", exception, (e.seq, last.seq)), what="server-log", exception=exception)
        for e in view.events("ws.closed"):
            if e.data.get("by") == "server" and e.data.get("code") == 1011:
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: the server closed the media stream with "
                                   "1011 (internal error)", Evidence("close", "close code 1011", (e.seq,)),
                                   what="stream", code=1011)


CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
TRACEBACK = "Traceback (most recent call last)"
TRACEBACK_MAX_LINES = 400


def _chained(text: str) -> bool:
    return any(c in text for c in CHAINED)


def _tracebacks(view: TraceView) -> list:
    """(first line, exception line) of each traceback in the captured server log; a chain counts once."""
    logs = [e for e in view.events("log") if e.component == "server"]
    texts = [str(e.data.get("message", "")) for e in logs]
    out = []
    for i, e in enumerate(logs):
        if TRACEBACK not in texts[i] or any(_chained(t) for t in texts[max(0, i - 3):i]):
            continue  # not a traceback's first line, or a later link of a chain already counted
        out.append((e, logs[_exception_line(texts, i)]))
    return out


def _exception_line(texts: list[str], start: int) -> int:
    """Where the traceback starting at ``start`` names its exception (the last link's, for a chain)."""
    last = start
    for j in range(start + 1, min(start + TRACEBACK_MAX_LINES, len(texts))):
        text = texts[j]
        if text.startswith((" ", "\t")) or not text.strip() or TRACEBACK in text or _chained(text):
            continue
        last = j
        following = texts[j + 1] if j + 1 < len(texts) else None
        if following is None or (following.strip() and not _chained(following)):
            break
    return last


class SessionConfigRejected(BaseDetector):
    id = "session-config-rejected"
    needs = frozenset({Needs.WIRE})
    summary = "the realtime service rejected session.update, or it carried a value outside the documented range"
    why = ("A rejected update leaves the session on its defaults: the wrong voice, no instructions, the wrong audio "
           "format; the call goes on as if nothing happened.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for e in view.events("realtime.session_update"):
            if e.data.get("accepted", True) and not e.data.get("problems"):
                continue
            problems = e.data.get("problems") or []
            text = "; ".join(f"{p.get('param')}: {p.get('message')}" for p in problems[:5] if isinstance(p, dict))
            yield self.finding(view, e.call, e.t_us, f"call {e.call}: session.update #{e.data.get('update_number')} "
                               f"was rejected: {text or 'the service answered with an error'}",
                               Evidence("update", text or "rejected", (e.seq,), {"problems": problems[:10]}),
                               problems=problems[:10])


class SilentCall(BaseDetector):
    id = "silent-call"
    needs = frozenset({Needs.WIRE})
    summary = "no model audio reached the caller within 5 s of the stream's start, or the call ended with none at all"
    why = "The caller hears dead air and hangs up; nothing fails loudly (a session that never confirmed, a blocked gate)."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        first_audio = view.first_model_audio()
        rejected = {e.call for e in view.events("call.rejected")}
        for e in view.events("call.started"):
            call = e.call
            if call is None or call in rejected:
                continue
            end = view.call_end_us(call)
            heard = first_audio.get(call)
            if heard is not None and heard - e.t_us <= SILENT_AFTER_US:
                continue
            if heard is None and end - e.t_us <= SILENT_AFTER_US:
                continue  # the call was over before the caller could expect to hear anything
            if heard is None:
                message = f"call {call}: the caller heard no model audio at all in {format_us(end - e.t_us)}"
            else:
                message = (f"call {call}: the first model audio reached the caller {format_us(heard - e.t_us)} after "
                           "the stream started")
            yield self.finding(view, call, e.t_us + SILENT_AFTER_US, message,
                               Evidence("start", "the stream started", (e.seq,)), first_audio_us=heard,
                               started_us=e.t_us, ended_us=end)


class StreamMessageRejected(BaseDetector):
    id = "stream-message-rejected"
    needs = frozenset({Needs.WIRE})
    summary = "the application sent Twilio a stream message it rejects (not JSON, unknown event, wrong streamSid...)"
    why = ("Twilio drops what it cannot take (31950/31951) or fails the stream (31924): audio or marks that never "
           "play, with nothing in the application's logs.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        grouped: dict[tuple, list] = {}
        for e in view.events("ws.app_problem"):
            if e.data.get("problem") in AUDIO_PROBLEMS:
                continue
            grouped.setdefault((e.call, e.data.get("problem")), []).append(e)
        for (call, problem), events in grouped.items():
            first = events[0]
            yield self.finding(view, call, first.t_us, f"call {call}: the application sent {len(events)} message(s) "
                               f"Twilio rejects: {problem} (Twilio {first.data.get('code')})",
                               Evidence(str(problem), ", ".join(f"{k}={v}" for k, v in first.data.items()
                                                               if k not in ("problem", "code")) or str(problem),
                                        tuple(e.seq for e in events[:20])),
                               problem=problem, code=first.data.get("code"), count=len(events))


AUDIO_PROBLEMS = ("message-after-stop", "bad-payload")


class ModelAudioLost(BaseDetector):
    id = "model-audio-lost"
    needs = frozenset({Needs.WIRE})
    summary = "model audio not delivered to Twilio intact: chunks that are not whole frames, audio after stop, bad payloads"
    why = ("The caller hears clicks, cut words or nothing: Twilio plays what arrives in 20 ms frames and drops what "
           "comes after the stream ended.")
    severity = Severity.WARNING

    def check(self, view: TraceView) -> Iterable[Finding]:
        partial: dict[str | None, list] = {}
        for e in view.events("ws.out"):
            if e.data.get("event") == "media" and e.data.get("whole_frames") is False:
                partial.setdefault(e.call, []).append(e)
        for call, events in partial.items():
            yield self.finding(view, call, events[0].t_us, f"call {call}: {len(events)} model audio chunk(s) were not "
                               f"whole 160-byte frames (first: {events[0].data.get('bytes')} bytes)",
                               Evidence("media", f"{len(events)} partial chunks", tuple(e.seq for e in events[:20])),
                               problem="partial-frames", count=len(events))
        for e in view.events("ws.app_problem"):
            if e.data.get("problem") in AUDIO_PROBLEMS:
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: {e.data.get('problem')}: model audio Twilio "
                                   "cannot play", Evidence(str(e.data.get("problem")), str(e.data), (e.seq,)),
                                   severity=Severity.ERROR, problem=e.data.get("problem"))


DELIVERY_SLACK_US = 3_000_000  # queued caller audio may reach the model this much later and still count
DROPPED_SHARE = 0.5


class CallerAudioDropped(BaseDetector):
    id = "caller-audio-dropped"
    needs = frozenset({Needs.WIRE})
    summary = "caller speech Twilio delivered that never reached the realtime model"
    why = ("The model answers what it heard: speech dropped by a gate (a rate limiter, a music filter, a "
           "half-duplex mute) while the model was silent is a caller talking to nobody.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        """A span of caller speech while no model audio was playing must reach the model (at least half its frames,
        counted from the realtime session's appends in the span); speech while the model plays may be gated (an
        echo gate), so it is not judged here."""
        playing: dict[str, list[tuple[int, int]]] = {}
        for e in view.events("ws.out"):
            if e.data.get("event") == "media" and e.call and e.data.get("plays_until_us") is not None:
                playing.setdefault(e.call, []).append((int(e.data.get("plays_from_us") or e.t_us),
                                                       int(e.data["plays_until_us"])))
        appended: dict[str, list[tuple[int, int]]] = {}
        for e in view.events("realtime.audio_in"):
            if e.call:
                appended.setdefault(e.call, []).append((e.t_us, int(e.data.get("frames") or 0)))
        for e in view.events("ws.media"):
            call = e.call
            if call is None or not e.data.get("speech_spans"):
                continue
            dropped = []
            total = 0
            for first, last, frames in e.data["speech_spans"]:
                if any(a < last and first < b for a, b in playing.get(call, [])):
                    continue  # the model was speaking: gating here may be intended (echo)
                total += frames
                got = sum(n for t, n in appended.get(call, []) if first <= t <= last + DELIVERY_SLACK_US)
                if got < frames * DROPPED_SHARE:
                    dropped.append((first, last, frames, got))
            if not dropped:
                continue
            lost = sum(f - min(g, f) for _, _, f, g in dropped)
            yield self.finding(
                view, call, dropped[0][0],
                f"call {call}: {len(dropped)} span(s) of caller speech while the model was silent barely reached it: "
                f"{lost} of {total} speech frames ({lost / max(total, 1):.0%}) never arrived",
                *(Evidence("span", f"{format_us(a)}-{format_us(b)}: {f} frames sent, {g} reached the model", (e.seq,))
                  for a, b, f, g in dropped[:5]),
                spans=[[a, b, f, g] for a, b, f, g in dropped], dropped_frames=lost, speech_frames=total)
