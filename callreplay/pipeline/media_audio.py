"""The caller-audio half of a media stream: frame slices, the session's VAD, response turns.

Frames reach the gates of :mod:`callreplay.audio` a slice at a time. The session's server VAD reacts to
what it receives and its events (barge-in, speech bypass) change the gates for later frames, so a slice
ends at the first such event; response turns switch "AI speaking" on and off. :class:`CallerAudio`
owns that state; the media-stream handler composes one and gives it two narrow ports: an
:class:`AudioCall` (the call's ids, whether it is closed, how to end it on the hard limit, and the
socket back to Twilio) and the realtime session.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..audio import AudioPathBase
from ..audio.server_vad import ServerVad
from .constants import FRAME_US
from .context import PipelineContext
from .realtime import RealtimeSession, Turn
from .rms_profile import RmsBins

if TYPE_CHECKING:  # pragma: no cover
    from ..audio.frames import FrameBatch
    from ..audio.path import LogLine, SliceResult

COMPONENT = "media_ws"
# Frames are processed speculatively up to the next known event; a server-VAD event found inside a
# slice rolls it back to that point. Bounding a slice bounds the work a rollback can waste.
MAX_SLICE_FRAMES = 1500
# With the echo gate on, predicted cuts are guesses; shorter ones than this are not worth taking.
MIN_GUESSED_SLICE_FRAMES = 50


class AudioCall(Protocol):
    """What the caller audio needs of its call."""

    @property
    def actor(self) -> str: ...

    @property
    def call_sid(self) -> str | None: ...

    @property
    def stream_sid(self) -> str | None: ...

    @property
    def closed(self) -> bool: ...

    def send_to_twilio(self, msg: dict[str, Any], *, at_us: int | None = None) -> None: ...

    def hard_limit(self, t_us: int, reason: str | None) -> None: ...


class CallerAudio:
    """The audio path, the session's VAD, RMS bins and keepalive counter of one call."""

    # Predict the session's VAD events when every frame is forwarded as it arrives (a shortcut that
    # must not change the trace; tests/engine/test_vad_prediction.py replays with it off to prove it).
    predict_vad = True

    def __init__(self, ctx: PipelineContext, call: AudioCall, path: AudioPathBase, session: RealtimeSession) -> None:
        self.ctx = ctx
        self.call = call
        self.audio = path
        self.session = session
        cfg = ctx.config
        self.vad = ServerVad(cfg.server_vad_rms, cfg.server_vad_start_frames, cfg.server_vad_silence_us // 1000)
        self.keepalive_n = 0
        self.tx_frames = 0
        self.bins = RmsBins()

    def process_frames(self, batch: FrameBatch, start: int, stop: int) -> int:
        """Run frames ``[start, stop)`` through the gates; return how far it got (a VAD event may cut it).

        The session's server VAD reacts to the audio it receives, and its events change the gates
        (barge-in, speech bypass) for the frames after them. The slice is first cut where the first
        event (and the next keepalive, and the hard limit) would fall if every frame reached the
        session as it arrives. When that is so (production's simple mode) the cut is exact and no
        rollback can be needed; otherwise (echo gate on) the slice is processed speculatively and
        rolled back to an earlier event, which the prediction makes rare.
        """
        audio, vad = self.audio, self.vad
        stop = min(stop, start + MAX_SLICE_FRAMES)
        latency = max(self.ctx.config.realtime_event_latency_us, 1)
        exact = self.predict_vad and audio.forwards_all_as_they_arrive()
        if self.predict_vad:
            token = vad.checkpoint()
            stop, events = self._predicted_stop(batch, start, stop, latency, exact, token)
        if exact:
            result = audio.process(batch, start, stop)
            if len(result.forwarded) != stop - start:  # a hard limit tripped inside: only what was sent counts
                vad.rollback(token)
                events = vad.feed(result.forwarded_at_us, result.forwarded_rms) if len(result.forwarded) else []
        else:
            audio_token, vad_token = audio.checkpoint(), vad.checkpoint()
            result = audio.process(batch, start, stop)
            if result.limit_exceeded_at_us is not None:
                trip = bisect.bisect_left(batch.arrival_us, result.limit_exceeded_at_us, lo=start, hi=stop)
                if trip + 1 < stop:  # the socket is shut at the tripping frame: nothing after it arrives
                    audio.rollback(audio_token)
                    vad.rollback(vad_token)
                    return self.process_frames(batch, start, trip + 1)
            if len(result.keepalives) and int(result.keepalives[0]) < int(batch.arrival_us[stop - 1]):
                audio.rollback(audio_token)
                vad.rollback(vad_token)
                at = bisect.bisect_right(batch.arrival_us, int(result.keepalives[0]), lo=start, hi=stop)
                return self.process_frames(batch, start, at)
            events = vad.feed(result.forwarded_at_us, result.forwarded_rms) if len(result.forwarded) else []
            if events and stop - start > 1:
                effect = events[0][0] + latency
                if effect <= int(batch.arrival_us[stop - 1]):
                    cut = bisect.bisect_left(batch.arrival_us, effect, lo=start, hi=stop)
                    if start < cut < stop:
                        audio.rollback(audio_token)
                        vad.rollback(vad_token)
                        return self.process_frames(batch, start, cut)
        self.apply(result, batch, start, stop)
        for t_us, kind in events:
            self.ctx.scheduler.call_at(t_us + latency, f"Vad-{kind}", self._vad_task(kind, t_us))
        return stop

    def _predicted_stop(self, batch: FrameBatch, start: int, stop: int, latency: int, exact: bool,
                        token: Any) -> tuple[int, list[tuple[int, str]]]:
        """Where the slice should end if every frame reached the session as it arrived: at the hard
        limit's frame, the next keepalive's frame, or just before the first server-VAD event takes effect.

        When that is exact (``exact``), the session's VAD is left fed up to the returned stop and its
        events are returned: the frames are fed once, or twice only when an event cuts the slice.
        With the echo gate on, a predicted frame may be dropped and the prediction then stays pending;
        the VAD is rolled back (to ``token``), and a cut that short would only make tiny slices, so it
        is then left to the speculative path.
        """
        audio, vad, arrival, rms = self.audio, self.vad, batch.arrival_us, batch.rms()
        original = stop
        trip = audio.limit_frame(arrival, start, stop)
        if trip is not None:  # the socket is shut at the tripping frame: nothing after it arrives
            stop = trip + 1
        keepalive = audio.keepalive_frame(arrival, start, stop)
        if keepalive is not None:  # end at a keepalive, so its mark echo is due after the slice
            stop = keepalive + 1
        events = vad.feed(arrival[start:stop], rms[start:stop])
        cut = stop
        if events:
            cut = max(bisect.bisect_left(arrival, events[0][0] + latency, lo=start, hi=stop), start + 1)
        if not exact:
            vad.rollback(token)
            return (original if cut - start < MIN_GUESSED_SLICE_FRAMES else cut), []
        if cut < stop:  # the VAD has seen frames past the cut: feed it again, up to the cut only
            vad.rollback(token)
            events = vad.feed(arrival[start:cut], rms[start:cut])
        return cut, events

    def apply(self, result: SliceResult, batch: FrameBatch | None = None, start: int = 0, stop: int = 0) -> None:
        """Turn a SliceResult into trace events, session appends, keepalive marks and a hard limit.

        A slice's log lines and keepalive marks are emitted merged in time order, then the session
        append (stamped at its last frame), so each call's events stay in time order.
        """
        ctx, sid = self.ctx, self.call.actor
        keepalives = result.keepalives.tolist() if len(result.keepalives) else []
        items: list[tuple[int, int, LogLine | None]] = [(line.t_us, 0, line) for line in result.logs]
        items += [(t, 2, None) for t in keepalives]
        if len(result.forwarded):
            items.append((int(result.forwarded_at_us[-1]), 1, None))
        items.sort(key=lambda item: (item[0], item[1]))
        for t_us, kind, line in items:
            if line is not None:
                ctx.trace.emit(line.t_us, sid, "audio", "log", level=line.level, message=line.message)
            elif kind == 1:
                batches = result.forwarded_batch or ((batch,) if batch is not None else ())
                self.session.append_audio(batches, result.forwarded,
                                          result.forwarded_at_us)
            else:
                self.keepalive_n += 1
                name = f"heartbeat_{self.keepalive_n}"
                self.call.send_to_twilio({"event": "mark", "streamSid": self.call.stream_sid,
                                          "mark": {"name": name}}, at_us=int(t_us))
        if batch is not None and stop > start:
            arrival = batch.arrival_us[start:stop]
            every = len(result.forwarded) == stop - start and result.forwarded_batch is None
            self.bins.add(arrival, result.rms, all_forwarded=every)
            if len(result.forwarded) and not every:
                self.bins.add_forwarded(result.forwarded_at_us)
            ctx.registry.touch_media(sid, int(arrival[-1]))
        elif len(result.forwarded):
            self.bins.add_forwarded(result.forwarded_at_us)
        if result.limit_exceeded_at_us is not None:
            self.call.hard_limit(result.limit_exceeded_at_us, result.limit_reason)

    def _vad_task(self, kind: str, heard_us: int) -> Callable[[], None]:
        return lambda: self._on_vad(kind, heard_us)

    def _on_vad(self, kind: str, heard_us: int) -> None:
        """``heard_us``: the frame the VAD decided on (what self-interruption traces a barge-in back to)."""
        ctx, sid = self.ctx, self.call.call_sid
        if self.call.closed:
            return
        if kind == "speech_started":
            ctx.always(sid, COMPONENT, "🎤 [SPEECH_STARTED] server VAD")
            speaking = self.session.active is not None
            ctx.always(sid, COMPONENT, f"🎙️ [BARGE-IN] speech_started ai_speaking={speaking} - clearing audio")
            self.call.send_to_twilio({"event": "clear", "streamSid": self.call.stream_sid})
            self.session.cancel_active("barge-in")
            self.audio.on_speech_started(ctx.now)
            onset = heard_us - (ctx.config.server_vad_start_frames - 1) * FRAME_US
            ctx.emit(sid, COMPONENT, "realtime.speech_started", trigger_us=heard_us, onset_us=onset)
        else:
            self.audio.on_speech_stopped(ctx.now)
            ctx.emit(sid, COMPONENT, "realtime.speech_stopped")
            ctx.always(sid, COMPONENT, "[TURN_TAKING] speech_stopped - server creates a response")
            self.session.create_response("server_vad", ctx.config.auto_response_duration_us)

    def on_response_audio(self, turn: Turn) -> None:
        frames = turn.duration_us // FRAME_US
        self.audio.set_barge_in_active(False)
        self.audio.on_ai_speaking(self.ctx.now, True)
        self.tx_frames += frames
        self.call.send_to_twilio({"event": "media", "streamSid": self.call.stream_sid, "frames": frames,
                                  "turn": turn.turn_id})

    def on_response_done(self, turn: Turn, cancelled: bool) -> None:
        self.audio.on_ai_speaking(self.ctx.now, False)
        if turn.reason == "GREETING":
            self.audio.set_barge_in_enabled_after_greeting(True)

    def respond(self, duration_us: int) -> None:
        """A ``realtime`` step: the model side produces a response turn now."""
        if self.session.bound is None or self.call.closed:
            self.ctx.emit(self.call.actor, COMPONENT, "realtime.respond_ignored",
                          reason="no session" if not self.call.closed else "closed")
            return
        self.session.create_response("scripted", duration_us)
