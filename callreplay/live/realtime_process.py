"""The run's side of the realtime emulator's own process (:mod:`.realtime_child`).

It offers :class:`LiveSession` what the in-loop emulator did: the URLs, the connections (as
proxies: id, who closed them, ``start_response``), every recorded event with the time it happened,
the caller audio of sessions not yet tied to a call, and a script per session chosen when it
connects. Every wait on the child is bounded; a child that dies leaves the run's calls to finish
without a model, and says so in the error it raises at start or the rows it stops sending.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..emulators.realtime import RealtimeScript
from .realtime_child import HEADER

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 8.0
EXIT_TIMEOUT_S = 2.0


@dataclass
class RemoteConnection:
    """One model session served by the child: what the run reads of it and asks of it."""

    id: str
    process: RealtimeProcess
    closed_by: str | None = None

    async def start_response(self, duration_s: float | None = None, transcript: str | None = None,
                             reason: str = "scripted") -> None:
        self.process.command(("respond", self.id, duration_s, transcript, reason))


class RealtimeProcess:
    def __init__(self, script: RealtimeScript, record: Callable[[str, int, str, dict[str, Any]], None],
                 on_audio: Callable[[RemoteConnection, bytes], bool],
                 script_for: Callable[[RemoteConnection], RealtimeScript]) -> None:
        self.script = script
        self.record = record            # (conn, t_ns, kind, data)
        self.on_audio = on_audio        # True once the audio has tied the session to a call
        self.script_for = script_for
        self._by_id: dict[str, RemoteConnection] = {}
        self._confirmed: set[str] = set()  # sessions the run has tied to a call: their audio is not offered again
        self.openai_url = self.gemini_url = ""
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    async def start(self, port: int = 0, cert: str | None = None, key: str | None = None) -> None:
        # the child imports this very callreplay, wherever the run was started from
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "callreplay.live.realtime_child", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
        self._write(pickle.dumps({"script": self.script, "port": port, "cert": cert, "key": key}))
        try:
            ready = await asyncio.wait_for(self._read(), START_TIMEOUT_S)
        except (TimeoutError, asyncio.IncompleteReadError) as exc:
            await self._kill()
            raise RuntimeError(f"the realtime emulator did not start (port {port or 'any'}): "
                               f"{type(exc).__name__}") from None
        if ready[0] != "ready":
            await self._kill()
            raise RuntimeError(f"the realtime emulator did not start: {ready!r}"[:300])
        self.openai_url, self.gemini_url = ready[1], ready[2]
        self._reader = asyncio.ensure_future(self._dispatch())

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def connections(self) -> list[RemoteConnection]:
        return list(self._by_id.values())

    def command(self, message: tuple[Any, ...]) -> None:
        if self._proc is not None and self._proc.returncode is None and not self._stopped.is_set():
            self._write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    async def stop(self) -> None:
        """Ask the child to close its sessions and send its last rows; bounded, then it is killed."""
        if self._proc is None:
            return
        self.command(("stop",))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), STOP_TIMEOUT_S)
        for conn in self._by_id.values():
            if conn.closed_by is None:
                conn.closed_by = "server"
        await self._kill()

    # -- the channel --------------------------------------------------------------------------------------
    def _write(self, blob: bytes) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(HEADER.pack(len(blob)) + blob)
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def _read(self) -> tuple[Any, ...]:
        assert self._proc is not None and self._proc.stdout is not None
        header = await self._proc.stdout.readexactly(HEADER.size)
        return pickle.loads(await self._proc.stdout.readexactly(HEADER.unpack(header)[0]))  # noqa: S301 - our child

    async def _dispatch(self) -> None:
        try:
            while True:
                message = await self._read()
                kind = message[0]
                if kind == "rows":
                    self._rows(message[1])
                elif kind == "connect":
                    conn = self.connection(message[1])
                    self.command(("script", conn.id, self.script_for(conn)))
                elif kind == "stopped":
                    break
                # a buffered message is read without suspending: give the pacer its turn between two
                await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._stopped.set()

    def _rows(self, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            if row[0] == "row":
                _, conn_id, t_ns, kind, data = row
                if conn_id != "-":
                    conn = self.connection(conn_id)
                    if kind == "realtime.closed":
                        conn.closed_by = data.get("by") or "client"
                self.record(conn_id, t_ns, kind, data)
            elif row[0] == "audio" and row[1] not in self._confirmed:
                conn = self.connection(row[1])
                if self.on_audio(conn, row[2]):
                    self._confirmed.add(conn.id)
                    self.command(("confirmed", conn.id))

    def connection(self, conn_id: str) -> RemoteConnection:
        conn = self._by_id.get(conn_id)
        if conn is None:
            conn = self._by_id[conn_id] = RemoteConnection(conn_id, self)
        return conn

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if proc.stdin is not None:
            proc.stdin.close()
        # asyncio's wait() also waits for the pipes to close: a stdout nobody reads (its reading paused once
        # the buffer filled) never sees EOF, and wait() would never return
        drain = asyncio.ensure_future(_drain(proc.stdout))
        try:
            await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT_S)
        finally:
            drain.cancel()


async def _drain(stream: asyncio.StreamReader | None) -> None:
    """Read and drop whatever the child still writes, to its end."""
    if stream is None:
        return
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while await stream.read(1 << 16):
            pass
