"""What every emulated session shares: identity, the socket, recording, and the receive loop.

Subclasses (:mod:`.openai_session`, :mod:`.gemini_session`) implement ``on_open``, ``on_text`` and
``start_response``. Every frame in either direction is recorded with its audio summarised, never the
base64, so traces stay small and carry no caller audio.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from .script import RealtimeScript
from .streaming import ActiveResponse

RecordFn = Callable[[str, str, dict], None]
AudioHook = Callable[["Connection", bytes], None]

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 2.0


class Connection:
    """One client socket. ``id`` is ``rt1``, ``rt2``... in connect order."""

    provider = ""

    def __init__(self, ws: ServerConnection, conn_id: str, interface: str, path: str, query: dict[str, str],
                 headers: dict[str, str], script: RealtimeScript, record: RecordFn | None,
                 on_audio: AudioHook | None) -> None:
        self.ws = ws
        self.id = conn_id
        self.interface = interface
        self.path = path
        self.query = query
        self.headers = headers
        self.script = script
        self._record = record
        self._on_audio = on_audio
        self.model: str | None = query.get("model")
        self.active: ActiveResponse | None = None
        self.closed_by: str | None = None
        self._counters: dict[str, int] = {}

    def apply_script(self, script: RealtimeScript) -> None:
        """Use a per-connection script (``script_for``); called before the first frame is read."""
        self.script = script

    # -- ids and recording ----------------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{self.id}{n:05d}"

    def record(self, kind: str, data: dict) -> None:
        if self._record is not None:
            self._record(self.id, kind, data)

    def audio_hook(self, payload: bytes) -> None:
        if self._on_audio is not None:
            self._on_audio(self, payload)

    def summarise_server(self, event: dict) -> dict:
        """The server event as recorded: subclasses replace audio fields with their summary."""
        return event

    async def send(self, event: dict, recorded: dict | None = None) -> None:
        """Send one JSON frame and record it (``recorded``: the summary, when the caller has it already);
        a closed socket is not an error (the client left)."""
        self.record("realtime.server_event", recorded if recorded is not None else self.summarise_server(event))
        try:
            await self.ws.send(json.dumps(event, ensure_ascii=False))
        except ConnectionClosed:
            pass

    async def close(self, code: int, reason: str) -> None:
        """Close from the server side (bounded by the socket's close timeout)."""
        if self.closed_by is None:
            self.closed_by = "server"
        await self.stop_active("connection_closed")
        await self.ws.close(code, reason)

    # -- responses --------------------------------------------------------------------------------------------
    async def stop_active(self, reason: str) -> None:
        """Stop the reply in flight, if any, and wait (bounded) for its closing events."""
        resp = self.active
        if resp is None:
            return
        resp.stop(reason)
        if resp.task is not None and resp.task is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(resp.task), timeout=CLOSE_TIMEOUT_S)
            except TimeoutError:
                resp.task.cancel()

    async def start_response(self, duration_s: float | None = None, transcript: str | None = None,
                             reason: str = "scripted") -> str:
        """Start a server-initiated reply now; returns its id (raises RuntimeError if one is active).

        ``None`` takes the script's length and words (the greeting's for a connection's first reply).
        """
        raise NotImplementedError

    # -- lifecycle --------------------------------------------------------------------------------------------
    async def on_open(self) -> None:
        raise NotImplementedError

    async def on_text(self, text: str) -> None:
        raise NotImplementedError

    async def on_binary(self, data: bytes) -> None:
        await self.on_text(data.decode("utf-8", errors="replace"))

    def connected_data(self) -> dict[str, Any]:
        return {"provider": self.provider, "interface": self.interface, "path": self.path, "model": self.model,
                "headers": {k: v for k, v in self.headers.items() if k.lower() not in ("authorization",
                                                                                        "x-goog-api-key")}}

    async def run(self) -> None:
        """Serve the socket until either side closes it; always records ``realtime.closed``."""
        self.record("realtime.connected", self.connected_data())
        try:
            await self.on_open()
            async for message in self.ws:
                if isinstance(message, bytes):
                    await self.on_binary(message)
                else:
                    await self.on_text(message)
        except ConnectionClosed:
            pass
        finally:
            if self.active is not None:
                self.active.stop("connection_closed")
                if self.active is not None and self.active.task is not None:
                    try:
                        await asyncio.wait_for(asyncio.shield(self.active.task), timeout=CLOSE_TIMEOUT_S)
                    except (TimeoutError, ConnectionClosed):
                        pass
            if self.closed_by is None:
                self.closed_by = "client"
            await self.ws.wait_closed()
            self.record("realtime.closed", {"code": self.ws.close_code, "reason": self.ws.close_reason,
                                            "by": self.closed_by})
