"""``media_ws_ai.py: MediaStreamHandler`` (spec §7, §8): one Twilio Media Stream, start to finally.

The handler reacts to Twilio's messages (start, media, mark, dtmf, stop, close), locks the
direction, identifies the business, starts the "realtime thread" (a scheduled prompt load after
the OpenAI connect latency), binds the session, runs the caller audio through the gates of
:mod:`callreplay.audio`, and on any ending runs ``close_session`` and ``run()``'s finally (the only
place the stream registry entry is cleared at BUGGY).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from ..audio import FastAudioPath, ReferenceAudioPath
from ..audio.frames import FrameBatch
from ..durations import US_PER_S
from .constants import replace_placeholders
from .context import PipelineContext
from .media_audio import CallerAudio
from .prompt_load import CallFacts, load_prompt
from .prompts import build_full_business_prompt
from .realtime import RealtimeSession, Turn
from .session_config import md5_8, resolve_voice, session_update_payload

COMPONENT = "media_ws"


class HandlerHost(Protocol):
    """What the handler needs of the application: its context, the handler registry, the socket, pre-builds."""

    ctx: PipelineContext
    audio_impl: str

    def register_handler(self, sid: str, handler: MediaStreamHandler) -> None: ...

    def unregister_handler(self, sid: str, handler: MediaStreamHandler) -> None: ...

    def send_to_twilio(self, handler: MediaStreamHandler, msg: dict[str, Any], *, at_us: int | None = None) -> None: ...

    def shutdown_socket(self, handler: MediaStreamHandler, reason: str) -> None: ...

    def prebuild_pending(self, sid: str | None) -> bool: ...

    def on_prebuild(self, sid: str, callback: Callable[[], None], *, timeout_us: int) -> None: ...


class MediaStreamHandler:
    """One Media Stream: Twilio's messages, the direction lock, the prompt load and binding, the endings.

    The caller audio is a composed :class:`~.media_audio.CallerAudio`; the handler is its
    :class:`~.media_audio.AudioCall` and the realtime session's listener.
    """

    def __init__(self, app: HandlerHost, socket_call: str, *, keep_audio: bool = False) -> None:
        self.app = app
        self.ctx = app.ctx
        self.socket_call = socket_call
        self.call_sid: str | None = None
        self.stream_sid: str | None = None
        self.call_direction: str | None = None
        self.business_id: int | None = None
        self.business_name: str | None = None
        self.greeting_text: str | None = None
        self.lead_name: str | None = None
        self.started = False
        self.closed = False
        self.finalized = False
        self.open_us = self.ctx.now
        self.start_us: int | None = None
        impl = FastAudioPath if app.audio_impl == "fast" else ReferenceAudioPath
        self.audio = impl(self.ctx.config.audio)
        self.media = CallerAudio(self.ctx, self, self.audio, RealtimeSession(self.ctx, self, keep_audio=keep_audio))
        self.voice_id: str | None = None
        self._refresh_handle: Any = None
        self.ctx.always(socket_call, COMPONENT, f"🎯 [T0] WS_START call_sid=pending ws_open_ts={self.ctx.clock.epoch():.3f}")

    @property
    def session(self) -> RealtimeSession:
        """The call's realtime session: the one its caller audio is appended to (one owner, the audio half)."""
        return self.media.session

    @session.setter
    def session(self, session: RealtimeSession) -> None:
        # ``callreplay serve`` swaps in a session that also mirrors to a real socket: both halves must use it
        self.media.session = session

    @property
    def actor(self) -> str:
        return self.call_sid or self.socket_call

    # -- the composed caller audio and what it reports back ------------------------------------------
    def send_to_twilio(self, msg: dict[str, Any], *, at_us: int | None = None) -> None:
        self.app.send_to_twilio(self, msg, at_us=at_us)

    def process_frames(self, batch: FrameBatch, start: int, stop: int) -> int:
        """Run frames ``[start, stop)`` through the caller audio; return how far it got."""
        return self.media.process_frames(batch, start, stop)

    def respond(self, duration_us: int) -> None:
        """A ``realtime`` step: the model side produces a response turn now."""
        self.media.respond(duration_us)

    def on_response_audio(self, turn: Turn) -> None:
        self.media.on_response_audio(turn)

    def on_response_done(self, turn: Turn, cancelled: bool) -> None:
        self.media.on_response_done(turn, cancelled)

    # -- Twilio messages ---------------------------------------------------------------------------
    def on_message(self, msg: dict) -> None:
        event = msg.get("event")
        if event == "start":
            self._on_start(msg)
        elif event == "stop":
            self._on_stop()
        elif event == "mark":
            name = (msg.get("mark") or {}).get("name", "")
            self.ctx.emit(self.actor, COMPONENT, "ws.mark_echo", name=name)
        elif event == "dtmf":
            self.ctx.emit(self.actor, COMPONENT, "ws.dtmf", digit=(msg.get("dtmf") or {}).get("digit"))
        elif event != "connected":
            self.ctx.emit(self.actor, COMPONENT, "ws.unhandled", event=event)
        if not self.started and event not in ("start", "connected"):
            waited = self.ctx.now - self.open_us
            if waited > 5 * US_PER_S:
                self.ctx.always(self.actor, COMPONENT, f"❌ [REALTIME] NO_START_EVENT_FROM_TWILIO after {waited // 1000}ms")
                self.end_call("NO_START_EVENT")
            elif waited > 2.5 * US_PER_S:
                self.ctx.always(self.actor, COMPONENT, f"⚠️ [REALTIME] SLOW_START_EVENT - no START after "
                                f"{waited // 1000}ms (continuing to wait...)")

    def _on_start(self, msg: dict) -> None:
        ctx, profile = self.ctx, self.ctx.profile
        start = msg.get("start") or {}
        params = start.get("customParameters") or {}
        incoming = profile.direction.incoming(params)
        if self.started:
            self._lock_direction(incoming)
            return
        self.started, self.start_us = True, ctx.now
        self.stream_sid = start.get("streamSid") or msg.get("streamSid")
        self.call_sid = start.get("callSid") or params.get("CallSid") or params.get("call_sid") or self.socket_call
        sid = self.call_sid
        phone = next((params[k] for k in ("From", "CallFrom", "from", "phone_number") if params.get(k)), None)
        to = next((v for v in (start.get("to"), params.get("To"), params.get("Called"), params.get("to"),
                               params.get("called")) if v), None)
        session_id = "SES-" + hashlib.md5(sid.encode()).hexdigest()[:8]
        ctx.always(sid, COMPONENT, f"🎯 [REALTIME] START EVENT RECEIVED! session={session_id} "
                   f"(delay={(ctx.now - self.open_us) // 1000}ms from WS open)")
        self._lock_direction(incoming)
        self.lead_name = params.get("lead_name") or None
        outbound_business_id = params.get("business_id") or None
        ctx.always(sid, COMPONENT, f"[OUTBOUND_PARAMS] lead_id_raw={params.get('lead_id')} phone={phone} call_sid={sid}")
        self.app.register_handler(sid, self)
        ctx.registry.mark_start(sid, actor=sid)
        ctx.log(sid, COMPONENT, "WARNING", f"[CALL_START] call_sid={sid} biz={outbound_business_id or 'N/A'} "
                f"direction={self.call_direction}")
        ctx.registry.set_metric(sid, "ws_connect_ts", ctx.clock.epoch(), actor=sid)
        self.audio.set_last_keepalive_us(ctx.now)
        ctx.emit(sid, COMPONENT, "call.started", stream_sid=self.stream_sid, direction=self.call_direction,
                 custom_parameters=params, to=to, from_=phone)
        if not self._identify_business(to, outbound_business_id):
            return
        assert self.call_direction is not None  # locked above
        try:
            built = build_full_business_prompt(ctx, self.business_id, self.call_direction, call=sid, path="part-d")
            ctx.print(sid, COMPONENT, f"✅ [PART D] Pre-built FULL BUSINESS prompt: {len(built.text)} chars")
        except Exception as exc:  # the real start handler catches whatever the dead PART D build raises
            ctx.print(sid, COMPONENT, f"⚠️ [PART D] Failed to pre-build prompt: {exc}")
        ctx.always(sid, COMPONENT, f"🚀 [REALTIME] Starting OpenAI at T0+{(ctx.now - self.open_us) // 1000}ms "
                   "(AFTER business validation!)")
        self.audio.set_realtime_alive(True)
        ctx.scheduler.call_later(ctx.config.openai_connect_latency_us, f"Realtime-{sid[:8]}", self._realtime_connected)
        if profile.sender.starts_at() == "realtime-start":
            # a sender that does not wait for session.updated (8.3 step 1 skipped) forwards from the start
            self.media.apply(self.audio.on_sender_started(ctx.now))

    def _lock_direction(self, incoming: str) -> None:
        ctx, sid = self.ctx, self.call_sid or self.socket_call
        if self.call_direction and self.call_direction != incoming and \
                not ctx.profile.direction.may_change(self.call_direction, incoming):
            ctx.always(sid, COMPONENT, f"[ERROR] CALL_DIRECTION_CHANGE_BLOCKED call_sid={sid} "
                       f"current={self.call_direction} attempted={incoming}")
            ctx.emit(sid, COMPONENT, "call.direction_change_blocked", current=self.call_direction, attempted=incoming)
            return
        changed = self.call_direction is not None and self.call_direction != incoming
        self.call_direction = incoming
        ctx.always(sid, COMPONENT, f"[CALL_DIRECTION_SET] call_sid={sid[:8]}... direction={incoming} locked=True")
        ctx.emit(sid, COMPONENT, "call.direction_locked", direction=incoming, changed=changed)

    def _identify_business(self, to: str | None, outbound_business_id: str | None) -> bool:
        ctx, sid, store = self.ctx, self.call_sid, self.ctx.store
        business = None
        if self.call_direction == "outbound" and outbound_business_id:
            try:
                business = store.get(int(outbound_business_id))
            except ValueError:
                business = None
        else:
            business = store.match_phone(to or "")
            if business is None:
                business = store.resolve_with_fallback(to or "")
                ctx.log(sid, COMPONENT, "WARNING", f"[CALL-WARN] No business for {to}, resolver: "
                        f"biz={business.id if business else None} ({'ok' if business else 'rejected'})")
        if business is None:
            ctx.always(sid, COMPONENT, f"❌ [BUSINESS_ISOLATION] Call REJECTED - cannot identify business for "
                       f"to=***{(to or '')[-4:]}")
            ctx.emit(sid, COMPONENT, "call.rejected", reason="business_identification_failed")
            self.end_call("business_identification_failed")
            return False
        self.business_id = business.id
        self.business_name = business.name or "העסק שלנו"
        greeting = business.greeting_message or ""
        self.greeting_text = replace_placeholders(greeting, self.business_name) or None
        self.voice_id = business.voice_id
        ctx.always(sid, COMPONENT, f"✅ [BUSINESS_ISOLATION] Business validated: {business.id}")
        ctx.emit(sid, COMPONENT, "call.business_identified", business_id=business.id)
        return True

    # -- realtime thread ---------------------------------------------------------------------------
    def _realtime_connected(self, waited: bool = False) -> None:
        ctx, sid = self.ctx, self.call_sid
        if self.closed:
            return
        assert sid is not None  # the realtime thread starts after the start event
        if not waited:
            ctx.always(sid, COMPONENT, f"✅ [REALTIME] OpenAI connected in {ctx.config.openai_connect_latency_us // 1000}ms")
        pending = self.app.prebuild_pending(sid)
        wait = 0 if waited else ctx.profile.prebuild_wait.wait_us(
            pending=pending, parked=bool(ctx.registry.peek(sid, "_prebuilt_full_prompt")))
        if wait:
            ctx.emit(sid, COMPONENT, "prompt.wait_for_prebuild", timeout_us=wait)
            self.app.on_prebuild(sid, lambda: self._realtime_connected(waited=True), timeout_us=wait)
            return
        prompt = load_prompt(ctx, CallFacts(sid, self.call_direction, self.business_id, self.business_name,
                                            self.greeting_text, pending))
        if prompt is None:
            self._immediate_hangup("missing_prompt")
            return
        if f"Business ID: {self.business_id}" not in prompt.text:
            ctx.log(sid, COMPONENT, "WARNING", "⚠️ [BUSINESS ISOLATION] Business ID marker not found in FULL BUSINESS prompt")
        ctx.log(sid, COMPONENT, "INFO", f"[PROMPT-LOADING] business_id={self.business_id} direction={self.call_direction} "
                "source=registry strategy=FULL_ONLY")
        ctx.emit(sid, COMPONENT, "prompt.loaded", prompt_id=prompt.provenance.prompt_id, path=prompt.provenance.path)
        self.bind(prompt, reason="initial")

    def bind(self, prompt, *, reason: str) -> None:
        """Send ``session.update`` with this prompt's sanitised text."""
        ctx, sid = self.ctx, self.call_sid
        voice, fell_back = resolve_voice(self.voice_id)
        if fell_back:
            ctx.always(sid, COMPONENT, f"[AI][VOICE_FALLBACK] voice={self.voice_id} -> cedar")
        payload, lines = session_update_payload(prompt, voice, ctx.config, send_reason=reason)
        for line in lines:
            ctx.always(sid, COMPONENT, line)
        self.session.session_update(payload, prompt, reason=reason)
        ctx.always(sid, COMPONENT, "[SESSION_SEND_RESULT] sent=True")
        self._schedule_refresh(prompt)

    def on_session_slow(self, payload: dict, prompt) -> None:
        """No confirmation after 3 s: the same update is sent again with force=True (§7.6)."""
        sid, sent = self.call_sid, payload["session"]["instructions"]
        self.ctx.always(sid, COMPONENT, "⏰ [SESSION] No session.updated after 3.0s")
        self.ctx.always(sid, COMPONENT, f"[SESSION_SEND] send_reason=retry force=True hash_before={md5_8(prompt.text)} "
                        f"hash_after={md5_8(sent)} len={len(sent)}")

    def on_session_failed(self) -> None:
        """H14: no confirmation in 8 s: RuntimeError, [REALTIME_FATAL], the call continues with no AI."""
        sid = self.call_sid
        self.ctx.always(sid, COMPONENT, "🚨 [SESSION] Timeout waiting for session.updated")
        self.ctx.log(sid, COMPONENT, "ERROR", "[REALTIME_FATAL] RuntimeError: Timeout waiting for session.updated")

    def on_session_updated(self) -> None:
        ctx, sid = self.ctx, self.call_sid
        if self.closed:
            return
        ctx.always(sid, COMPONENT, f"✅ [SESSION] session.updated confirmed in "
                   f"{ctx.config.session_confirm_latency_us // 1000}ms (retried=False)")
        anchor = self._name_anchor()
        ctx.always(sid, COMPONENT, f"[NAME_POLICY] source=business_prompt result={'use_name' if anchor else 'none'} "
                   "matched=\"\"")
        ctx.always(sid, COMPONENT, "[NAME_ANCHOR] injected" if anchor else "[NAME_ANCHOR] skipped reason=no_name")
        bound = self.session.bound
        digest = md5_8(bound.text) if bound else "none"
        ctx.always(sid, COMPONENT, f"[PROMPT_SUMMARY] system=0 (in_full) business=1 name_anchor={anchor} hashes: "
                   f"biz={digest}, name={'set' if anchor else 'none'}")
        ctx.always(sid, COMPONENT, f"[PROMPT_BIND] call_sid={sid} business_id={self.business_id} "
                   f"direction={self.call_direction} hash={digest}")
        ctx.always(sid, COMPONENT, "🎯 [RESPONSE_CREATE] reason=GREETING, prev_active=None, is_ai_speaking=False, "
                   "tx_q=0, out_q=0")
        self.session.create_response("GREETING", ctx.config.greeting_duration_us)
        if ctx.profile.sender.starts_at() == "session-updated":
            self.media.apply(self.audio.on_sender_started(ctx.now))

    def _name_anchor(self) -> int:
        """1 when the session's prompt carries the lead's name (an outbound call with one), else 0."""
        return 1 if (self.call_direction == "outbound" and self.lead_name) else 0

    # -- hardened: keep the bound prompt honest ----------------------------------------------------
    def _schedule_refresh(self, prompt) -> None:
        if not self.ctx.profile.settings_change.refreshes_live_calls:
            return
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
        due = prompt.provenance.built_at_us + self.ctx.config.prompt_cache_ttl_us
        self._refresh_handle = self.ctx.scheduler.call_at(due, f"PromptRefresh-{self.actor[:8]}",
                                                          lambda: self.refresh_prompt("ttl"))

    def refresh_prompt(self, reason: str) -> None:
        """Re-build from the current settings; update the session if the text changed."""
        if self.closed or self.session.bound is None:
            return
        ctx = self.ctx
        assert self.call_direction is not None  # a bound session means the call started
        try:
            prompt = build_full_business_prompt(ctx, self.business_id, self.call_direction, call=self.call_sid,
                                                path="refresh")
        except Exception:  # MissingPromptError, or a malformed JSON prompt (§13.1 item 3): keep what is bound
            return
        if prompt.text == self.session.bound.text:
            self.session.rebind(prompt, reason=reason)
            self._schedule_refresh(prompt)
        else:
            self.bind(prompt, reason=f"refresh-{reason}")

    # -- endings -----------------------------------------------------------------------------------
    def hard_limit(self, t_us: int, reason: str | None) -> None:
        """The usage guard tripped (§8.3): hang up through Twilio's REST API and end the call."""
        ctx, sid = self.ctx, self.call_sid
        ctx.clock.advance_to(max(ctx.clock.now_us, t_us))
        ctx.emit(sid, COMPONENT, "call.hard_limit", reason=reason, at_us=t_us,
                 sender_start_us=self.audio.counters.get("sender_start_us"))
        self.app.shutdown_socket(self, "hard_limit")
        try:
            ctx.http.twilio(sid).calls(sid).update(status="completed")
        except Exception as exc:
            ctx.log(sid, COMPONENT, "ERROR", f"[BUILD 331] REST hangup failed: {exc}")
        self.end_call("limit_exceeded")

    def _immediate_hangup(self, reason: str) -> None:
        self.app.shutdown_socket(self, reason)
        self.end_call(reason)

    def end_call(self, reason: str) -> None:
        """Every ending runs ``close_session`` and then ``run()``'s finally, with the same reason."""
        self.close_session(reason)
        self.run_finally(reason)

    def _on_stop(self) -> None:
        c = self.audio.counters
        self.ctx.print(self.actor, COMPONENT, f"WS_STOP sid={self.actor} rx={c['rx']} tx={self.media.tx_frames}")
        self.end_call("twilio_stop_event")

    def on_socket_closed(self) -> None:
        """The socket dropped without a stop (``ConnectionClosed``)."""
        self.ctx.print(self.actor, COMPONENT, f"📞 WS_CLOSED sid={self.actor} reason=ConnectionClosed")
        self.end_call("ws_connection_closed")

    def close_session(self, reason: str) -> None:
        if self.closed:
            return
        ctx, sid = self.ctx, self.actor
        self.closed = True
        self.audio.set_closing(True)
        ctx.always(sid, COMPONENT, f"🔒 [SESSION_CLOSE] Closing session (reason={reason})")
        if self.session.bound is not None:
            anchor = self._name_anchor()
            ctx.always(sid, COMPONENT, f"[PROMPT_FINAL_SUMMARY] system=0 (in_full) universal=0 business=1 "
                       f"name_anchor={anchor} business_hash={md5_8(self.session.bound.text)}")
        self.session.close()
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
        row = ctx.store.call_logs.get(sid)
        if row is not None:
            row.status = "ended"
            if row.call_status not in ("completed", "busy", "no-answer", "failed", "canceled"):
                row.call_status = "ended"
        if ctx.profile.lifecycle.clears_at("close_session") and self.call_sid:
            ctx.registry.clear(self.call_sid, actor=sid, reason="close_session")
        self.app.unregister_handler(sid, self)
        ctx.always(sid, COMPONENT, "✅ [SESSION_CLOSE] Complete")
        ctx.emit(sid, COMPONENT, "call.session_closed", reason=reason)
        self.app.shutdown_socket(self, reason)

    def run_finally(self, reason: str) -> None:
        if self.finalized:
            return
        ctx, sid = self.ctx, self.actor
        self.finalized = True
        duration = ctx.now - (self.start_us if self.start_us is not None else self.open_us)
        ctx.log(sid, COMPONENT, "WARNING", f"[CALL_END] call_sid={sid} duration={duration / US_PER_S:.1f}s warnings=0")
        if not self.closed:
            self.close_session("finally_block_fallback")
        c = self.audio.counters
        ctx.print(sid, COMPONENT, f"🛡️ OPENAI_USAGE_GUARD: frames_sent={c['total_frames_sent']} "
                  f"limit_exceeded={bool(c.get('limit_exceeded'))}")
        if ctx.profile.lifecycle.clears_at("run-finally") and self.call_sid:
            ctx.registry.clear(self.call_sid, actor=sid, reason="run-finally")
        ctx.print(sid, COMPONENT, f"WS_DONE sid={sid} rx={c['rx']} tx={self.media.tx_frames}")
        ctx.emit(sid, COMPONENT, "call.ended", reason=reason, duration_us=duration, direction=self.call_direction,
                 business_id=self.business_id, counters=_jsonable(c), audio_sha256=self.session.audio_digest(),
                 appended_frames=self.session.appended_frames, tx_frames=self.media.tx_frames,
                 turns=len(self.session.turns))
        ctx.emit(sid, "audio", "audio.profile", **self.rms_profile())

    def rms_profile(self, max_points: int = 600) -> dict:
        """RMS over time, downsampled into at most ``max_points`` bins (for the report's plot)."""
        return self.media.bins.profile(max_points)


def _jsonable(counters: dict) -> dict:
    out = {}
    for key, value in counters.items():
        if isinstance(value, (np.integer,)):
            value = int(value)
        elif isinstance(value, (np.floating,)):
            value = float(value)
        if isinstance(value, float):
            value = round(value, 6)
        if isinstance(value, (int, float, str, bool)) or value is None:
            out[key] = value
    return out
