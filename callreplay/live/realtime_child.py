"""The realtime emulator's own process (``python -m callreplay.live.realtime_child``).

Live mode's pacer sends every call's frames from one loop; the emulator answering the target's
model sessions would share that loop's core (tens of thousands of events a second at 200 calls).
So it runs here, and talks to the run over this process's stdin/stdout:

- to the run: ``("ready", openai_url, gemini_url)``; ``("rows", [...])`` every few milliseconds
  (or every ``FLUSH_ROWS`` rows, so no batch holds up the run's pacer),
  each row ``("row", conn, t_ns, kind, data)`` or ``("audio", conn, payload)`` (caller audio of a
  session not yet tied to a call); ``("connect", conn, info)`` when a session opens, answered with
  its script; ``("stopped",)`` last.
- from the run: ``("script", conn, script)``, ``("confirmed", conn)``, ``("respond", conn, duration_s,
  transcript, reason)``, ``("stop",)``.

Messages are length-prefixed pickles between two processes of the same run, never from a user.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import ssl
import struct
import sys
import time
from typing import Any

from ..emulators.realtime import RealtimeEmulator, RealtimeScript

FLUSH_S = 0.005
FLUSH_ROWS = 256  # a batch the run unpickles and files in well under a millisecond, between two frames
SCRIPT_WAIT_S = 2.0
MAX_AUDIO_PER_CONN = 500  # caller audio offered for correlation before the run has tied the session to a call
HEADER = struct.Struct("!I")


class _Child:
    def __init__(self, base: RealtimeScript, out: Any) -> None:
        self.out = out
        self.rows: list[tuple[Any, ...]] = []
        self.scripts: dict[str, asyncio.Future[RealtimeScript]] = {}
        self.confirmed: set[str] = set()
        self.audio_sent: dict[str, int] = {}
        self.base = base
        self.emulator = RealtimeEmulator(script=base, record=self.record, on_audio=self.on_audio,
                                         script_for=self.script_for)

    def send(self, message: tuple[Any, ...]) -> None:
        blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.out.write(HEADER.pack(len(blob)) + blob)
        self.out.flush()

    def flush(self) -> None:
        if self.rows:
            rows, self.rows = self.rows, []
            self.send(("rows", rows))

    def _add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def record(self, conn_id: str, kind: str, data: dict[str, Any]) -> None:
        self._add(("row", conn_id, time.monotonic_ns(), kind, data))

    def on_audio(self, conn: Any, payload: bytes) -> None:
        if conn.id in self.confirmed:
            return
        sent = self.audio_sent.get(conn.id, 0)
        if sent < MAX_AUDIO_PER_CONN:
            self.audio_sent[conn.id] = sent + 1
            self._add(("audio", conn.id, bytes(payload)))

    async def script_for(self, conn: Any) -> RealtimeScript:
        future = self.scripts[conn.id] = asyncio.get_running_loop().create_future()
        self.flush()
        self.send(("connect", conn.id, {}))
        try:
            return await asyncio.wait_for(future, SCRIPT_WAIT_S)
        except TimeoutError:
            return self.base
        finally:
            self.scripts.pop(conn.id, None)

    def command(self, message: tuple[Any, ...]) -> bool:
        """Act on one message from the run; False once it asks us to stop."""
        kind = message[0]
        if kind == "script":
            future = self.scripts.get(message[1])
            if future is not None and not future.done():
                future.set_result(message[2])
        elif kind == "confirmed":
            self.confirmed.add(message[1])
        elif kind == "respond":
            asyncio.ensure_future(self.respond(*message[1:]))
        elif kind == "stop":
            return False
        return True

    async def respond(self, conn_id: str, duration_s: float | None, transcript: str | None, reason: str) -> None:
        conn = next((c for c in self.emulator.connections if c.id == conn_id), None)
        if conn is None:
            return
        try:
            await conn.start_response(duration_s=duration_s, transcript=transcript, reason=reason)
        except RuntimeError as exc:  # a reply is already in flight: the model would refuse too
            self.record(conn_id, "realtime.respond_refused", {"reason": str(exc)[:200]})


async def _commands(child: _Child, reader: asyncio.StreamReader) -> None:
    while True:
        try:
            header = await reader.readexactly(HEADER.size)
            message = pickle.loads(await reader.readexactly(HEADER.unpack(header)[0]))
        except (asyncio.IncompleteReadError, ConnectionError):
            return  # the run went away: stop too
        if not child.command(message):
            return


async def _flusher(child: _Child) -> None:
    while True:
        await asyncio.sleep(FLUSH_S)
        child.flush()


async def main(config: dict[str, Any], out: Any) -> None:
    child = _Child(config.get("script") or RealtimeScript(), out)
    server_ssl = None
    if config.get("cert"):
        server_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        server_ssl.load_cert_chain(config["cert"], config["key"])
    await child.emulator.start(host="127.0.0.1", port=int(config.get("port") or 0), ssl=server_ssl)
    child.send(("ready", child.emulator.openai_url, child.emulator.gemini_url))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    flusher = asyncio.ensure_future(_flusher(child))
    try:
        await _commands(child, reader)
    finally:
        await child.emulator.stop()
        flusher.cancel()
        child.flush()
        child.send(("stopped",))


def run() -> None:
    # the channel is the real stdout; anything printed by accident goes to stderr instead
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdin = os.fdopen(0, "rb", buffering=0)
    config = pickle.loads(_read_exactly(sys.stdin, HEADER.unpack(_read_exactly(sys.stdin, HEADER.size))[0]))
    asyncio.run(main(config, out))


def _read_exactly(stream: Any, n: int) -> bytes:
    data = b""
    while len(data) < n:
        part = stream.read(n - len(data))
        if not part:
            raise SystemExit("callreplay's realtime emulator: the run closed its channel before the configuration")
        data += part
    return data


if __name__ == "__main__":
    run()
