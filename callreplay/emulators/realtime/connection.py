"""What every emulated session shares: identity, the socket, recording, and the receive loop.

Subclasses (:mod:`.openai_session`, :mod:`.gemini_session`) implement ``on_open``, ``on_text`` and
``start_response``. Every frame in either direction is recorded with its audio summarised, never the
base64, so traces stay small and carry no caller audio.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from ...audio.server_vad import ServerVad
from . import audio as wire_audio
from .catalogue import AudioFormat
from .script import RealtimeScript
from .streaming import ActiveResponse, SendChunk, deliver

RecordFn = Callable[[str, str, dict], None]
AudioHook = Callable[["Connection", bytes], None]

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 2.0


def _server_vad(script: RealtimeScript) -> ServerVad:
    """The caller-audio VAD with the script's thresholds (the same detector the in-process model runs)."""
    return ServerVad(script.vad_rms, script.vad_start_frames, script.vad_silence_ms)


class InboundAudio(NamedTuple):
    """One decoded caller payload and what the trace keeps of it (:func:`.audio.summary`)."""

    raw: bytes
    summary: dict


class Connection:
    """One client socket. ``id`` is ``rt1``, ``rt2``... in connect order."""

    provider = ""
    fault_code: str | int = "server_error"
    """The ``realtime.error`` code recorded when the emulator itself fails mid-reply."""

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
        self.vad = _server_vad(script)
        self._record = record
        self._on_audio = on_audio
        self.model: str | None = query.get("model")
        self.active: ActiveResponse | None = None
        self.closed_by: str | None = None
        self.responses_started = 0
        self.turns_requested = 0  # response.create events received: the index into ``script.turns``
        self.turn_in_flight: Any = None  # the TurnScript of the client-requested reply now streaming
        self._counters: dict[str, int] = {}
        self._last_audio: tuple[str, AudioFormat | None, InboundAudio | None] | None = None

    def apply_script(self, script: RealtimeScript) -> None:
        """Use a per-connection script (``script_for``); called before the first frame is read."""
        self.script = script
        self.vad = _server_vad(script)

    # -- ids and recording ----------------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{self.id}{n:05d}"

    def record(self, kind: str, data: dict) -> None:
        if self._record is not None:
            self._record(self.id, kind, data)

    def record_unparsable(self, text: str) -> None:
        """A client frame that is not a JSON object: its length and head, never the whole frame."""
        self.record("realtime.client_event", {"invalid_json": True, "length": len(text), "head": text[:200]})

    def audio_hook(self, payload: bytes) -> None:
        if self._on_audio is not None:
            self._on_audio(self, payload)

    def inbound_audio(self, encoded: str, fmt: AudioFormat | None) -> InboundAudio | None:
        """A caller audio payload decoded and summarised, None when it is not valid base64.

        The recorder (``summarise_client``) and the handler both need it for the same message: the
        last answer is kept for that same string object, so the decode, digest and RMS run once per
        message, and no two records share a summary.
        """
        last = self._last_audio
        if last is not None and last[0] is encoded and last[1] == fmt:
            return last[2]
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            audio = None
        else:
            audio = InboundAudio(raw, wire_audio.summary(raw, fmt))
        self._last_audio = (encoded, fmt, audio)
        return audio

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

    def new_response(self, id_prefix: str, reason: str, duration_s: float | None, transcript: str | None,
                     fmt: AudioFormat | None) -> ActiveResponse:
        """The next reply: the script's length and words (the greeting's first) unless given."""
        default_s, default_text = self.script.duration_for(reason, first=self.responses_started == 0)
        self.responses_started += 1
        seconds = default_s if duration_s is None else duration_s
        return ActiveResponse(id=self.new_id(id_prefix), item_id=self.new_id("item"), reason=reason,
                              duration_us=int(round(seconds * 1e6)),
                              transcript=default_text if transcript is None else transcript, fmt=fmt)

    def stream_in_background(self, resp: ActiveResponse) -> None:
        """Run ``stream_response`` as a task the connection can stop (cancel, barge-in, close)."""
        resp.task = asyncio.create_task(self._run_response(resp), name=f"{self.id}:{resp.id}")

    async def _run_response(self, resp: ActiveResponse) -> None:
        try:
            await self.stream_response(resp)
        except Exception as exc:  # an emulator fault must not hang the client: end the reply, keep serving
            log.exception("%s: reply %s failed", self.id, resp.id)
            self.record("realtime.error", {"code": self.fault_code, "message": repr(exc), "param": None,
                                           "event_id": None})
        finally:
            if self.active is resp:
                self.active = None

    async def stream_response(self, resp: ActiveResponse) -> None:
        """Send one reply, start to end, in the provider's events."""
        raise NotImplementedError

    async def deliver_audio(self, resp: ActiveResponse, send: SendChunk) -> bool:
        """Synthesise the reply's audio and pace it out through ``send``; True if it ran to the end."""
        fmt = resp.fmt
        audio = wire_audio.synthesize(fmt, resp.duration_us, self.script.reply_rms, self.script.seed) if fmt else b""
        turn = self.turn_in_flight if resp.reason == "client" else None
        chunk = (turn and turn.chunk_bytes) or self.script.chunk_bytes or (fmt.bytes_for_ms(wire_audio.FRAME_MS)
                                                                           if fmt else 1)
        rate = (turn and turn.delivery_rate) or self.script.delivery_rate
        return await deliver(resp, audio, chunk, rate, self.script.response_latency_s, send)

    def next_turn(self) -> Any:
        """Count one ``response.create``; its TurnScript, or None when the script names no such turn."""
        self.turns_requested += 1
        turns = self.script.turns
        return turns[self.turns_requested - 1] if self.turns_requested <= len(turns) else None

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
            await self.stop_active("connection_closed")
            if self.closed_by is None:
                self.closed_by = "client"
            await self.ws.wait_closed()
            self.record("realtime.closed", {"code": self.ws.close_code, "reason": self.ws.close_reason,
                                            "by": self.closed_by})
