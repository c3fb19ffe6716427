"""The process the real system runs, as one object per replay: shared state plus the sockets.

It owns what the real process shares between calls (prompt cache, stream registry, handler
registry, outbound HTTP) and what a replay needs to drive it (one Twilio socket per call). The
components reach each other through the context's typed fields, so none of them is a module-level global.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from ..twilio.ids import stream_sid_for
from ..twilio.stream import TwilioStream
from .cache import PromptCache
from .context import PipelineContext
from .media_handler import MediaStreamHandler
from .registry import StreamRegistry
from .webhooks import Webhooks

COMPONENT = "app"


@dataclass
class Socket:
    """One Media Streams WebSocket: Twilio's end and the application's handler."""

    call: str
    stream: TwilioStream
    handler: MediaStreamHandler
    closed: bool = False
    close_reason: str | None = None
    feeds: list = field(default_factory=list)

    def counting_message(self) -> None:
        """Twilio numbers this message from the one counter: media still to come moves up by one."""
        self.feeds = [feed for feed in self.feeds if not feed.done]
        for feed in self.feeds:
            feed.offset += 1


class PipelineApp:
    def __init__(self, ctx: PipelineContext, *, audio_impl: str = "fast", keep_audio: bool = False) -> None:
        self.ctx = ctx
        self.audio_impl = audio_impl
        self.keep_audio = keep_audio
        self.cache = PromptCache(ctx)
        self.registry = StreamRegistry(ctx)
        ctx.cache, ctx.registry, ctx.calls = self.cache, self.registry, self
        self.webhooks = Webhooks(ctx)
        self.handlers: dict[str, MediaStreamHandler] = {}
        self.sockets: dict[str, Socket] = {}
        self.twiml_parameters: dict[str, dict[str, str]] = {}
        self._pending_prebuilds: dict[str, int] = {}
        self._prebuild_waiters: dict[str, list[Callable[[], None]]] = {}

    # -- sockets -----------------------------------------------------------------------------------
    def socket(self, call: str) -> Socket:
        sock = self.sockets.get(call)
        if sock is None:
            handler = MediaStreamHandler(self, call, keep_audio=self.keep_audio)
            stream = TwilioStream(call, stream_sid_for(call), dict(self.twiml_parameters.get(call, {})),
                                  schedule=self.ctx.scheduler.call_at,
                                  deliver=functools.partial(self.deliver_from_twilio, call))
            sock = self.sockets[call] = Socket(call, stream, handler)
            self.ctx.emit(call, "twilio", "ws.open", stream_sid=stream.stream_sid)
        return sock

    def deliver_from_twilio(self, call: str, msg: dict) -> None:
        """A non-media message Twilio sends on its own (a mark echo): into the handler, in order."""
        sock = self.sockets[call]
        if sock.closed:
            return
        sock.counting_message()
        self.ctx.emit(call, "twilio", "ws.in", event=msg.get("event"), message=msg)
        sock.handler.on_message(msg)

    def send_to_twilio(self, handler: MediaStreamHandler, msg: dict, *, at_us: int | None = None) -> None:
        """What the application sends back: media (as a frame count), mark and clear."""
        sock = self.sockets.get(handler.socket_call)
        if sock is None or sock.closed:
            return
        now = self.ctx.now if at_us is None else max(at_us, 0)
        stream = sock.stream
        event = msg["event"]
        if event == "media":
            end = stream.play(now, msg["frames"])
            self.ctx.trace.emit(now, handler.actor, "twilio", "ws.out", event="media", frames=msg["frames"],
                                turn=msg.get("turn"), plays_until_us=end)
        elif event == "mark":
            stream.mark(now, msg["mark"]["name"])
            self.ctx.trace.emit(now, handler.actor, "twilio", "ws.out", event="mark", name=msg["mark"]["name"])
        elif event == "clear":
            echoed = stream.clear(now)
            self.ctx.trace.emit(now, handler.actor, "twilio", "ws.out", event="clear", echoed_marks=echoed)

    def shutdown_socket(self, handler: MediaStreamHandler, reason: str) -> None:
        sock = self.sockets.get(handler.socket_call)
        if sock is not None and not sock.closed:
            sock.closed, sock.close_reason = True, reason
            sock.stream.closed = True
            self.ctx.emit(handler.actor, "twilio", "ws.closed", reason=reason)

    # -- handler registry (_register_handler / close_handler_from_webhook) --------------------------
    def register_handler(self, sid: str, handler: MediaStreamHandler) -> None:
        previous = self.handlers.get(sid)
        if previous is not None and previous is not handler and not previous.closed:
            self.ctx.always(sid, COMPONENT, f"[REGISTRY_REPLACED] call_sid={sid} closing shadow handler")
            previous.close_session("replaced_by_new_handler")
        self.handlers[sid] = handler
        self.ctx.always(sid, COMPONENT, f"[HANDLER_REGISTRY] Registered handler for {sid}")

    def unregister_handler(self, sid: str, handler: MediaStreamHandler) -> None:
        if self.handlers.get(sid) is handler:
            del self.handlers[sid]
            self.ctx.always(sid, COMPONENT, f"[HANDLER_REGISTRY] Unregistered handler for {sid}")

    def close_handler_from_webhook(self, sid: str, reason: str) -> None:
        handler = self.handlers.get(sid)
        if handler is None:
            self.ctx.always(sid, COMPONENT, f"⚠️ [WEBHOOK_CLOSE] No handler found for {sid}")
            return
        self.ctx.always(sid, COMPONENT, f"🔥 [WEBHOOK_CLOSE] Triggering close_session from webhook: {reason}")
        handler.end_call(reason)

    def live_calls(self, business_id: int) -> int:
        return sum(1 for h in self.handlers.values() if h.business_id == business_id and not h.closed)

    # -- pre-build bookkeeping (for the hardened bounded wait) --------------------------------------
    def prebuild_started(self, sid: str) -> None:
        self._pending_prebuilds[sid] = self._pending_prebuilds.get(sid, 0) + 1

    def prebuild_finished(self, sid: str) -> None:
        self._pending_prebuilds[sid] -= 1
        if not self._pending_prebuilds[sid]:
            del self._pending_prebuilds[sid]
            for waiter in self._prebuild_waiters.pop(sid, []):
                waiter()

    def prebuild_pending(self, sid: str | None) -> bool:
        return bool(sid and self._pending_prebuilds.get(sid))

    def on_prebuild(self, sid: str, callback: Callable[[], None], *, timeout_us: int) -> None:
        """Call ``callback`` once, when the pending pre-build ends or ``timeout_us`` passes."""
        fired = [False]

        def once() -> None:
            if not fired[0]:
                fired[0] = True
                callback()

        self._prebuild_waiters.setdefault(sid, []).append(once)
        self.ctx.scheduler.call_later(timeout_us, f"PrebuildWait-{sid[:8]}", once)

    def reap_registry(self, sid: str) -> None:
        """Hardened: an entry whose call never connected (or has ended) is retired after a bounded time."""
        if self.registry.has(sid) and sid not in self.handlers:
            self.registry.clear(sid, actor=sid, reason="reaper")

    # -- settings changes ---------------------------------------------------------------------------
    def settings_changed(self, business_id: int, *, invalidate_cache: bool) -> None:
        policy = self.ctx.profile.settings_change
        if invalidate_cache or policy.invalidates_cache:
            self.cache.invalidate(business_id)
        if policy.refreshes_live_calls:
            for handler in list(self.handlers.values()):
                if handler.business_id == business_id and not handler.closed:
                    handler.refresh_prompt("settings-changed")
