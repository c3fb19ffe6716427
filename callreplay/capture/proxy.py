"""``callreplay record``: a reverse proxy between Twilio and the application that writes what passes.

Every HTTP request (any path, any method) is forwarded to the target and the target's answer sent
back unmodified, with one exception: the ``url`` of a TwiML ``<Stream>`` is rewritten to point at
the proxy (``ws://LISTEN/<same path>``, or ``--public-url`` when a TLS tunnel fronts the proxy) so
the Media Streams socket flows through it too. The capture keeps the target's original body.
WebSocket upgrades are proxied to the target's socket on the same path and messages pumped both
ways. Each call's records stream into ``<out>/<CallSid>.jsonl`` (see :mod:`.capture_file`).

A socket learns its call from the ``start`` message; until then its records wait in a bounded
pending buffer. Failures are never swallowed: a target that refuses an HTTP request yields an
``error`` record and a 502, a refused or broken socket an ``error`` record and close code 1011.
aiohttp serves and forwards both kinds, so a message costs one parse-free pass and a flushed line
(the tests measure and print the added latency on loopback).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from .capture_file import KEPT_HEADERS, CaptureWriter
from .redact import Redactor

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length", "content-encoding", "host"}
WS_FORWARD_HEADERS = ("User-Agent", "X-Twilio-Signature", "X-Forwarded-Host", "X-Forwarded-For")
PENDING_LIMIT = 10_000
_STREAM_URL = re.compile(r'(<Stream\b[^>]*?\burl=")wss?://[^/"]*(/[^"]*)?(")')
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def rewrite_stream_url(body: str, public_ws: str) -> str:
    """Point every ``<Stream url="wss://HOST/PATH">`` at ``public_ws`` + the same PATH."""
    return _STREAM_URL.sub(lambda m: f"{m.group(1)}{public_ws.rstrip('/')}{m.group(2) or '/'}{m.group(3)}", body)


MAX_NAME_CHARS = 64


def _file_key(call: str | None) -> str:
    """A capture file name for a CallSid: safe characters only, and short (a 300-character CallSid would exceed
    the file system's name limit and turn the request into an HTTP 500); long ids keep a prefix and a hash."""
    if not call:
        return "_unbound"
    key = _SAFE_NAME.sub("_", call).lstrip(".") or "_"
    if len(key) > MAX_NAME_CHARS:
        key = key[:40] + "-" + hashlib.sha256(call.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return key


class CaptureSession:
    """One recording session: a shared clock origin, the redactor, and one writer per call."""

    def __init__(self, out_dir: Path, redactor: Redactor) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.redactor = redactor
        self.origin_ns = time.monotonic_ns()
        self.started_at = datetime.now(UTC).isoformat(timespec="microseconds")
        self.writers: dict[str, CaptureWriter] = {}
        self.live_sockets: dict[str, int] = {}

    def now_us(self) -> int:
        return (time.monotonic_ns() - self.origin_ns) // 1000

    def writer(self, call: str | None) -> CaptureWriter:
        key = _file_key(call)
        writer = self.writers.get(key)
        if writer is None or writer.closed:
            writer = self.writers[key] = CaptureWriter(self.out_dir / f"{key}.jsonl", call, self.started_at)
        return writer

    def record(self, call: str | None, t_us: int, type_: str, **fields) -> None:
        self.writer(call).write(t_us, type_, **fields)

    def close_call(self, call: str | None) -> None:
        """Close a call's file unless one of its sockets is still open (a later record reopens it)."""
        key = _file_key(call)
        if self.live_sockets.get(key):
            return
        writer = self.writers.pop(key, None)
        if writer is not None:
            writer.close()

    def socket_bound(self, call: str, delta: int) -> None:
        key = _file_key(call)
        self.live_sockets[key] = self.live_sockets.get(key, 0) + delta
        if self.live_sockets[key] <= 0:
            del self.live_sockets[key]

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()
        self.redactor.save(self.out_dir)


class _SocketRecorder:
    """Records one proxied socket; holds records until ``start`` names the call."""

    def __init__(self, session: CaptureSession) -> None:
        self.session = session
        self.call: str | None = None
        self.pending: list[tuple[int, str, dict]] = []

    def record(self, type_: str, **fields) -> None:
        t_us = self.session.now_us()
        if self.call is None:
            self.pending.append((t_us, type_, fields))
            if len(self.pending) > PENDING_LIMIT:
                self.flush(None)
            return
        self.session.record(self.call, t_us, type_, **fields)

    def bind(self, call: str) -> None:
        if self.call is None:
            self.call = call
            self.session.socket_bound(call, +1)
            self.flush(call)

    def flush(self, call: str | None) -> None:
        for t_us, type_, fields in self.pending:
            self.session.record(call, t_us, type_, **fields)
        self.pending.clear()

    def finish(self) -> None:
        if self.call is None:
            self.flush(None)
        else:
            self.session.socket_bound(self.call, -1)
        self.session.close_call(self.call)


class CaptureProxy:
    """The aiohttp application; ``public_ws`` is what TwiML stream URLs are rewritten to."""

    def __init__(self, target: str, out_dir: Path, redactor: Redactor, public_ws: str | None = None) -> None:
        self.target = target.rstrip("/")
        self.target_ws = re.sub(r"^http", "ws", self.target)
        self.session = CaptureSession(out_dir, redactor)
        self.redactor = redactor
        self.public_ws = public_ws
        self.client: aiohttp.ClientSession | None = None
        self.sockets: set[web.WebSocketResponse] = set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        app.on_startup.append(self._startup)
        app.on_shutdown.append(self._shutdown)
        return app

    @property
    def http(self) -> aiohttp.ClientSession:
        """The client session, open from the application's start-up to its shutdown."""
        if self.client is None:
            raise RuntimeError("the capture proxy's client is used before its application started")
        return self.client

    async def _startup(self, app: web.Application) -> None:
        self.client = aiohttp.ClientSession(auto_decompress=True, timeout=aiohttp.ClientTimeout(total=60))

    async def _shutdown(self, app: web.Application) -> None:
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b"callreplay record stopping")
        if self.client is not None:
            await self.client.close()
        self.session.close()

    # -- HTTP ---------------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.websocket(request)
        body = await request.read()
        form = {}
        if request.content_type == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        query = dict(request.query)
        call = form.get("CallSid") or query.get("CallSid")
        red = self.redactor
        kept = {h: request.headers[h] for h in KEPT_HEADERS if h in request.headers}
        self.session.record(call, self.session.now_us(), "http.request", method=request.method, path=request.path,
                            query=red.value(query), form=red.value(form), headers=red.headers(kept))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = request.host
        try:
            async with self.http.request(request.method, self.target + request.path_qs, headers=headers,
                                           data=body, allow_redirects=False) as resp:
                content = await resp.read()
                status, resp_headers = resp.status, resp.headers
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            self.session.record(call, self.session.now_us(), "error", what="http: target failed", detail=detail,
                                target=self.target)
            self.session.close_call(call)
            return web.Response(status=502, text=f"callreplay record: the target {self.target} failed: {detail}\n")
        content_type = resp_headers.get("Content-Type", "")
        text = content.decode("utf-8", "replace")
        out = content
        rewritten = False
        if self.public_ws and "<Stream" in text:
            new_text = rewrite_stream_url(text, self.public_ws)
            rewritten = new_text != text
            out = new_text.encode("utf-8") if rewritten else content
        self.session.record(call, self.session.now_us(), "http.response", status=status, content_type=content_type,
                            body=red.text(text), rewritten=rewritten)
        self.session.close_call(call)  # one open file per live socket, not per call ever seen
        reply = web.Response(status=status, body=out)
        for name, value in resp_headers.items():
            if name.lower() not in HOP_BY_HOP:
                reply.headers.add(name, value)
        return reply

    # -- WebSocket ----------------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        recorder = _SocketRecorder(self.session)
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        headers = {h: request.headers[h] for h in WS_FORWARD_HEADERS if h in request.headers}
        try:
            upstream = await self.http.ws_connect(self.target_ws + request.path_qs, protocols=offered,
                                                    headers=headers, autoping=True, max_msg_size=0)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            server = web.WebSocketResponse(protocols=offered)
            await server.prepare(request)
            recorder.record("error", what="ws: target refused the socket", detail=f"{type(exc).__name__}: {exc}",
                            target=self.target_ws + request.path)
            await server.close(code=1011, message=b"callreplay record: target unavailable")
            recorder.record("ws.close", code=1011, by="proxy")
            recorder.finish()
            return server
        server = web.WebSocketResponse(protocols=[upstream.protocol] if upstream.protocol else (), max_msg_size=0)
        await server.prepare(request)
        self.sockets.add(server)
        recorder.record("ws.open", path=request.path, subprotocol=upstream.protocol)
        try:
            await self._pump(server, upstream, recorder)
        finally:
            self.sockets.discard(server)
            if not upstream.closed:
                await upstream.close()
            recorder.finish()
        return server

    async def _pump(self, server: web.WebSocketResponse, upstream, recorder: _SocketRecorder) -> None:
        async def inbound() -> None:  # Twilio -> app
            async for msg in server:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    text = msg.data
                    if recorder.call is None and '"start"' in text:
                        self._bind(recorder, text)
                    recorder.record("ws.in", text=self.redactor.ws_text(text))
                    await upstream.send_str(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    recorder.record("ws.in", text="", binary_bytes=len(msg.data))
                    await upstream.send_bytes(msg.data)
            code = server.close_code or 1000
            recorder.record("ws.close", code=code, by="twilio")
            if not upstream.closed:
                await upstream.close(code=code)

        async def outbound() -> None:  # app -> Twilio
            async for msg in upstream:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    recorder.record("ws.out", text=self.redactor.ws_text(msg.data))
                    await server.send_str(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    recorder.record("ws.out", text="", binary_bytes=len(msg.data))
                    await server.send_bytes(msg.data)
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    recorder.record("error", what="ws: target socket failed", detail=str(upstream.exception()))
                    await server.close(code=1011, message=b"callreplay record: target failed")
                    return
            if not server.closed:
                code = upstream.close_code or 1000
                recorder.record("ws.close", code=code, by="app")
                await server.close(code=code)

        tasks = [asyncio.ensure_future(inbound()), asyncio.ensure_future(outbound())]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                recorder.record("error", what="ws: proxy pump failed", detail=repr(task.exception()))

    @staticmethod
    def _bind(recorder: _SocketRecorder, text: str) -> None:
        import json

        try:
            msg = json.loads(text)
        except ValueError:
            return
        if isinstance(msg, dict) and msg.get("event") == "start" and isinstance(msg.get("start"), dict):
            sid = msg["start"].get("callSid") or (msg["start"].get("customParameters") or {}).get("CallSid")
            if sid:
                recorder.bind(str(sid))


async def start_proxy(proxy: CaptureProxy, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (``await runner.cleanup()`` stops) and the bound port."""
    runner = web.AppRunner(proxy.app(), handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    if proxy.public_ws is None:
        proxy.public_ws = f"ws://{host}:{bound}"
    return runner, bound


def run_proxy(listen: str, target: str, out_dir: Path, redactor: Redactor, public_ws: str | None = None,
              echo=print) -> None:
    """Serve until SIGINT/SIGTERM, then close sockets (1001) and files; used by ``callreplay record``."""
    host, _, port = listen.rpartition(":")

    async def main() -> None:
        proxy = CaptureProxy(target, out_dir, redactor, public_ws)
        runner, bound = await start_proxy(proxy, host or "127.0.0.1", int(port))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        echo(f"recording: listening on {host}:{bound}, forwarding to {target}, captures in {out_dir}/ "
             f"(streams rewritten to {proxy.public_ws}); Ctrl-C stops")
        await stop.wait()
        await runner.cleanup()
        echo(f"stopped: capture files closed in {out_dir}/")

    asyncio.run(main())
