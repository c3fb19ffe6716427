"""The model's realtime session, mirrored over a real socket to the realtime URL the server is given.

The model keeps its own session timing (that is what makes ``serve`` behave like an in-process
replay); every ``session.update``, caller-audio append, ``response.create`` and close it makes is
also sent, in order, on a WebSocket to the realtime service (live mode's emulator), whose answers
are read and dropped. A mirror that cannot connect is recorded in the model's trace and the call
goes on.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ..pipeline.context import BuiltPrompt
from ..pipeline.realtime import RealtimeSession, Turn

CONNECT_TIMEOUT_S = 5.0
QUEUE_LIMIT = 10_000


class RealtimeMirror:
    """One connection to the realtime service; messages are sent in the order the model made them."""

    def __init__(self, url: str, api_key: str, on_problem: Any) -> None:
        self.url = url
        self.api_key = api_key
        self.on_problem = on_problem
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
        self.task = asyncio.ensure_future(self._run())

    def send(self, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(json.dumps(event, separators=(",", ":")))
        except asyncio.QueueFull:
            self.on_problem("the realtime mirror's queue is full; events dropped")

    def close(self) -> None:
        try:
            self.queue.put_nowait(None)
        except asyncio.QueueFull:
            self.task.cancel()

    async def _run(self) -> None:
        try:
            # the modelled system speaks the beta interface (flat session fields, spec §7.6)
            headers = {"Authorization": f"Bearer {self.api_key}", "OpenAI-Beta": "realtime=v1"}
            async with connect(self.url, additional_headers=headers,
                               open_timeout=CONNECT_TIMEOUT_S, close_timeout=2, max_size=2 ** 24) as ws:
                drain = asyncio.ensure_future(_drain(ws))
                try:
                    while True:
                        text = await self.queue.get()
                        if text is None:
                            break
                        await ws.send(text)
                finally:
                    drain.cancel()
        except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as exc:
            self.on_problem(f"realtime mirror: {type(exc).__name__}: {exc}")


async def _drain(ws: Any) -> None:
    try:
        async for _ in ws:
            pass
    except ConnectionClosed:
        pass


class MirroredSession(RealtimeSession):
    """The model's session, each wire-visible act also sent to the realtime service."""

    mirror: RealtimeMirror | None = None

    def attach(self, mirror: RealtimeMirror) -> None:
        self.mirror = mirror

    def session_update(self, payload: dict, prompt: BuiltPrompt, *, reason: str) -> None:
        if self.mirror is not None:
            self.mirror.send({"type": "session.update", "session": dict(payload["session"])})
        super().session_update(payload, prompt, reason=reason)

    def append_audio(self, batches: tuple, indices: np.ndarray, times_us: np.ndarray) -> None:
        if self.mirror is not None and not self.closed and len(indices):
            owners = batches if len(batches) == len(indices) else batches * len(indices)
            for batch, i in zip(owners, indices, strict=True):
                self.mirror.send({"type": "input_audio_buffer.append",
                                  "audio": base64.b64encode(batch.payload_bytes(int(i))).decode("ascii")})
        super().append_audio(batches, indices, times_us)

    def create_response(self, reason: str, duration_us: int) -> Turn:
        if self.mirror is not None and reason != "server_vad":  # the service makes VAD responses itself
            self.mirror.send({"type": "response.create"})
        return super().create_response(reason, duration_us)

    def close(self) -> None:
        was_closed = self.closed
        super().close()
        if self.mirror is not None and not was_closed:
            self.mirror.close()
