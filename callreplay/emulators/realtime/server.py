"""``RealtimeEmulator``: one loopback WebSocket server answering as OpenAI Realtime and Gemini Live.

The path picks the service: ``.../realtime`` is OpenAI (the ``OpenAI-Beta: realtime=v1`` header or the
``openai-beta.realtime-v1`` subprotocol selects beta, else GA), a ``...BidiGenerateContent`` path is
Gemini Live; anything else gets a 404 at the handshake, recorded like everything else.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .connection import AudioHook, Connection, RecordFn
from .gemini_session import GeminiConnection
from .openai_session import OpenAIConnection
from .script import RealtimeScript

OPENAI_PATH = "/v1/realtime"
GEMINI_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
# the run is over when the emulator stops: a client that reads its socket answers the close within
# milliseconds; one that stopped reading (a leaked session whose buffers are full) never will, so it is cut
STOP_TIMEOUT_S = 1.5
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def route(path: str, headers: Headers) -> tuple[str, str] | None:
    """``(provider, interface)`` for a request path, or None when no emulated service lives there."""
    clean = urlsplit(path).path.rstrip("/")
    if clean.endswith("/realtime"):
        beta_header = "realtime=v1" in headers.get("OpenAI-Beta", "").replace(" ", "")
        protocols = [p.strip() for p in headers.get("Sec-WebSocket-Protocol", "").split(",")]
        return "openai", "beta" if beta_header or "openai-beta.realtime-v1" in protocols else "ga"
    if "BidiGenerateContent" in clean:
        if "LlmBidiService" in clean:
            return "gemini", "vertex"
        return "gemini", "v1alpha" if ".v1alpha." in clean else "v1beta"
    return None


class RealtimeEmulator:
    """Serve the realtime services on loopback; ``connections`` lists every socket in connect order."""

    def __init__(self, script: RealtimeScript | None = None, record: RecordFn | None = None,
                 on_audio: AudioHook | None = None,
                 script_for: Callable[[Connection], RealtimeScript | Awaitable[RealtimeScript]] | None = None
                 ) -> None:
        self.script = script or RealtimeScript()
        self.record = record
        self.on_audio = on_audio
        self.script_for = script_for
        self.connections: list[Connection] = []
        self._server: Server | None = None
        self._scheme = "ws"
        self._host = "127.0.0.1"
        self._port = 0

    # -- addresses ------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{self._scheme}://{host}:{self._port}"

    @property
    def openai_url(self) -> str:
        return self.base_url + OPENAI_PATH

    @property
    def gemini_url(self) -> str:
        return self.base_url + GEMINI_PATH

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0, ssl: ssl_module.SSLContext | None = None) -> None:
        """Listen on ``host:port`` (0: a free port); loopback only, the emulator is never public."""
        if host not in LOOPBACK:
            raise ValueError(f"the realtime emulator binds to loopback only (127.0.0.1, ::1), not {host!r}")
        if self._server is not None:
            raise RuntimeError("the realtime emulator is already started")
        self._scheme = "wss" if ssl is not None else "ws"
        self._server = await serve(self._handle, host, port, ssl=ssl, process_request=self._check_request,
                                   select_subprotocol=self._select_subprotocol, max_size=16 * 2**20,
                                   ping_interval=None, compression=None)
        sockname = self._server.sockets[0].getsockname()
        self._host, self._port = sockname[0], int(sockname[1])

    async def stop(self) -> None:
        """Close every connection (1001) and the server, waiting at most ``STOP_TIMEOUT_S``."""
        server, self._server = self._server, None
        if server is None:
            return
        for conn in self.connections:
            if conn.closed_by is None:
                conn.closed_by = "server"
            if conn.active is not None:
                conn.active.stop("connection_closed")
        server.close(close_connections=True)
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=STOP_TIMEOUT_S)
        except TimeoutError:
            for conn in self.connections:
                conn.ws.transport.abort()

    async def __aenter__(self) -> RealtimeEmulator:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handshake ------------------------------------------------------------------------------------------
    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if route(request.path, request.headers) is not None:
            return None
        if self.record is not None:
            self.record("-", "realtime.rejected_handshake", {"path": request.path, "status": 404})
        return connection.respond(404, f"No realtime service at {urlsplit(request.path).path}\n")

    @staticmethod
    def _select_subprotocol(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        return Subprotocol("realtime") if "realtime" in offered else None

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        routed = route(request.path, request.headers)
        assert routed is not None  # _check_request refused the others
        provider, interface = routed
        split = urlsplit(request.path)
        query = dict(parse_qsl(split.query))
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        cls = OpenAIConnection if provider == "openai" else GeminiConnection
        conn = cls(ws, f"rt{len(self.connections) + 1}", interface, split.path, query, headers, self.script,
                   self.record, self.on_audio)
        self.connections.append(conn)
        if self.script_for is not None:
            script = self.script_for(conn)  # a coroutine when the script comes from another process
            conn.apply_script(await script if inspect.isawaitable(script) else script)
        await conn.run()
