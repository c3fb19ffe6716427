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
from .log_lines import PrintedLogTrace
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
        self.trace = PrintedLogTrace()
        config = build_config({**options.overrides, "public_host": options.public_host})
        self.ctx = PipelineContext(self.clock, self.scheduler, self.trace, BusinessStore.from_specs(options.businesses),
                                   config, options.profile, timezone="UTC")
        # duck-typed like the replay's OutboundHttp: the model only calls .twilio(actor)
        self.ctx.http = LiveOutboundHttp(self.ctx, options.twilio_api_base, options.auth_token)  # type: ignore[assignment]
        self.app = ServeApp(self.ctx, self)
        self.wake = asyncio.Event()
        self.pump_task: asyncio.Task[None] | None = None
        self._pending: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._flush_scheduled = False

    def start(self) -> None:
        self.pump_task = asyncio.ensure_future(self._pump())

    async def stop(self) -> None:
        if self.pump_task is not None:
            self.pump_task.cancel()
            await asyncio.gather(self.pump_task, return_exceptions=True)

    def handle(self, owner: str | None, action: Callable[[], Any]) -> Any:
        """Run one event of the outside world in the model, at the present moment (after the call's frames)."""
        self.scheduler.current_owner = owner
        self.flush(owner)
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

    def queue_frame(self, call: str, msg: dict[str, Any]) -> None:
        """A caller frame, stamped now; frames are handed to the model in batches, so a busy server catches up
        with one slice per call instead of paying the per-slice cost for every frame."""
        self._pending.setdefault(call, []).append((self.clock.wall_us(), msg))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush_all)

    def flush_all(self) -> None:
        self._flush_scheduled = False
        for call in list(self._pending):
            self.handle(call, lambda: None)

    def flush(self, call: str | None) -> None:
        """Run the call's queued frames through the audio path, in order, with the tasks due between them."""
        pending = self._pending.pop(call, None) if call is not None else None
        if not pending:
            return
        sock = self.app.sockets.get(call or "")
        if sock is None or sock.closed:
            return
        payloads: list[bytes] = []
        arrival: list[int] = []
        seq: list[int] = []
        chunk: list[int] = []
        stamp: list[int] = []
        b64s: list[str] = []
        for t_us, msg in pending:
            media = msg.get("media") or {}
            b64 = str(media.get("payload") or "")
            try:
                payloads.append(base64.b64decode(b64, validate=True))
            except ValueError:
                continue
            arrival.append(max(t_us, arrival[-1] if arrival else t_us))
            seq.append(_int(msg.get("sequenceNumber")))
            chunk.append(_int(media.get("chunk")))
            stamp.append(_int(media.get("timestamp")))
            b64s.append(b64)
        if not payloads:
            return
        batch = FrameBatch.build(payloads, np.array(arrival), np.array(seq), np.array(chunk), np.array(stamp),
                                 b64=b64s)
        position = 0
        while position < len(batch) and not sock.closed:
            self.scheduler.run_until(int(batch.arrival_us[position]))
            self.clock.move_to(int(batch.arrival_us[position]), sync_wall_clock=False)
            reached = sock.handler.process_frames(batch, position, len(batch))
            position = max(reached, position + 1)
        self.clock.catch_up()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
