"""The model, alive: a pipeline context on the wall clock, its scheduler pumped by an asyncio task.

Everything the server hears (a webhook, a socket message) is handled inside :meth:`ServeRuntime.handle`,
which first brings the model's clock to the present and afterwards wakes the pump, so tasks the
event scheduled (the pre-build, the realtime connect, a response turn) run when they fall due.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio.frames import FrameBatch
from ..audio.mulaw import encode
from ..pipeline.app import PipelineApp
from ..pipeline.config import build_config
from ..pipeline.context import PipelineContext
from ..pipeline.media_handler import MediaStreamHandler
from ..pipeline.profiles import Profile
from ..pipeline.store import BusinessStore
from ..scenario.model import BusinessSpec
from ..scheduler import Scheduler
from ..trace import Trace
from .mirror import MirroredSession, RealtimeMirror
from .outbound import LiveOutboundHttp
from .wall_clock import WallClock

PUMP_IDLE_S = 0.05
FRAME_BYTES = 160


def _model_voice_frame() -> str:
    """One 20 ms frame of the model's voice (a 220 Hz tone): what ``serve`` plays to the caller."""
    t = np.arange(FRAME_BYTES) / 8000.0
    pcm = (3000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    return base64.b64encode(encode(pcm).tobytes()).decode("ascii")


MODEL_FRAME_B64 = _model_voice_frame()


@dataclass
class Outlet:
    """Where one call's messages to Twilio go: the real socket's send queue."""

    send: Callable[[str | None], None]
    closed: bool = False


class ServeApp(PipelineApp):
    """The model's process, whose Twilio side is a real socket instead of the modelled one."""

    def __init__(self, ctx: PipelineContext, runtime: ServeRuntime) -> None:
        super().__init__(ctx)
        self.runtime = runtime
        self.outlets: dict[str, Outlet] = {}

    def send_to_twilio(self, handler: MediaStreamHandler, msg: dict, *, at_us: int | None = None) -> None:
        outlet = self.outlets.get(handler.socket_call)
        sock = self.sockets.get(handler.socket_call)
        if outlet is None or outlet.closed or sock is None or sock.closed:
            return
        sid = handler.stream_sid or sock.stream.stream_sid
        event = msg["event"]
        if event == "media":
            text = json.dumps({"event": "media", "streamSid": sid, "media": {"payload": MODEL_FRAME_B64}},
                              separators=(",", ":"))
            for _ in range(int(msg["frames"])):
                outlet.send(text)
            self.ctx.emit(handler.actor, "twilio", "ws.out", event="media", frames=msg["frames"], turn=msg.get("turn"))
        elif event == "mark":
            outlet.send(json.dumps({"event": "mark", "streamSid": sid, "mark": msg["mark"]}, separators=(",", ":")))
            self.ctx.emit(handler.actor, "twilio", "ws.out", event="mark", name=msg["mark"]["name"])
        elif event == "clear":
            outlet.send(json.dumps({"event": "clear", "streamSid": sid}, separators=(",", ":")))
            self.ctx.emit(handler.actor, "twilio", "ws.out", event="clear")

    def shutdown_socket(self, handler: MediaStreamHandler, reason: str) -> None:
        super().shutdown_socket(handler, reason)
        outlet = self.outlets.get(handler.socket_call)
        if outlet is not None and not outlet.closed and reason != "twilio_stop_event":
            outlet.closed = True
            outlet.send(None)  # the server closes the socket: Twilio goes on with the TwiML


@dataclass
class ServeOptions:
    profile: Profile
    businesses: tuple[BusinessSpec, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    public_host: str = "127.0.0.1:8000"
    realtime_url: str | None = None
    api_key: str = "sk-callreplay-test"
    twilio_api_base: str | None = None
    auth_token: str = ""


class ServeRuntime:
    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.clock = WallClock()
        self.scheduler = Scheduler(self.clock)
        self.trace = Trace()
        config = build_config({**options.overrides, "public_host": options.public_host})
        self.ctx = PipelineContext(self.clock, self.scheduler, self.trace, BusinessStore.from_specs(options.businesses),
                                   config, options.profile, timezone="UTC")
        # duck-typed like the replay's OutboundHttp: the model only calls .twilio(actor)
        self.ctx.http = LiveOutboundHttp(self.ctx, options.twilio_api_base, options.auth_token)  # type: ignore[assignment]
        self.app = ServeApp(self.ctx, self)
        self.wake = asyncio.Event()
        self.pump_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.pump_task = asyncio.ensure_future(self._pump())

    async def stop(self) -> None:
        if self.pump_task is not None:
            self.pump_task.cancel()
            await asyncio.gather(self.pump_task, return_exceptions=True)

    def handle(self, owner: str | None, action: Callable[[], Any]) -> Any:
        """Run one event of the outside world in the model, at the present moment."""
        self.clock.catch_up()
        self.scheduler.run_until(self.clock.now_us)
        self.scheduler.current_owner = owner
        try:
            return action()
        finally:
            self.scheduler.current_owner = None
            self.wake.set()

    async def _pump(self) -> None:
        while True:
            now = self.clock.catch_up()
            self.scheduler.run_until(now)
            due = self.scheduler.next_due_us()
            timeout = PUMP_IDLE_S if due is None else min(max((due - self.clock.wall_us()) / 1e6, 0.0), PUMP_IDLE_S)
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except TimeoutError:
                pass

    # -- the media socket ------------------------------------------------------------------------
    def open_call(self, call: str, outlet: Outlet) -> MediaStreamHandler:
        sock = self.app.socket(call)
        self.app.outlets[call] = outlet
        handler = sock.handler
        session = MirroredSession(self.ctx, handler)
        handler.session = session
        if self.options.realtime_url:
            session.attach(RealtimeMirror(self.options.realtime_url, self.options.api_key,
                                          lambda text: self.ctx.emit(call, "realtime", "realtime.mirror_problem",
                                                                     message=text)))
        return handler

    def frame(self, call: str, msg: dict[str, Any]) -> None:
        """One caller frame, as the handler's audio path takes it (a one-frame batch at the present)."""
        sock = self.app.sockets.get(call)
        if sock is None or sock.closed:
            return
        media = msg.get("media") or {}
        b64 = str(media.get("payload") or "")
        try:
            payload = base64.b64decode(b64, validate=True)
        except ValueError:
            return
        now = self.clock.now_us
        batch = FrameBatch.build([payload], np.array([now]), np.array([_int(msg.get("sequenceNumber"))]),
                                 np.array([_int(media.get("chunk"))]), np.array([_int(media.get("timestamp"))]),
                                 b64=[b64])
        sock.handler.process_frames(batch, 0, 1)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
