"""The ASGI application of ``callreplay serve`` (Starlette, served by uvicorn).

Routes are the modelled system's: the webhooks under ``/webhook/...`` (and the incident write-up's
``/twiml/incoming/<tenant>`` aliases), the Media Streams socket at ``/ws/twilio-media``, and
``/health``. A webhook becomes the same ``WebhookStep`` an in-process replay hands the model.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..scenario.load import WEBHOOK_ROUTES, resolve_route
from ..scenario.model import WebhookStep
from .runtime import Outlet, ServeRuntime

SEND_QUEUE_LIMIT = 50_000


def build_app(runtime: ServeRuntime) -> Starlette:
    @asynccontextmanager
    async def lifespan(_app: Starlette):
        runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    async def webhook(request: Request) -> Response:
        path = request.url.path
        try:
            route, tenant = resolve_route(path)
        except KeyError:
            return PlainTextResponse("Not Found", status_code=404)
        body = (await request.body()).decode("utf-8", "replace") if request.method == "POST" else ""
        form = dict(parse_qsl(body, keep_blank_values=True))
        query = dict(request.query_params)
        if tenant is not None and route == "outbound_call":
            query.setdefault("business_id", tenant)
        step = WebhookStep(index=0, at_us=0, line=None, path="serve", route=route, request_path=path,
                           method=request.method, params=form if request.method == "POST" else query, query=query)
        owner = form.get("CallSid") or query.get("CallSid")
        answer = runtime.handle(owner, lambda: runtime.app.webhooks.handle(step))
        if answer.body and "<Stream" in answer.body and owner:
            from ..replay import stream_parameters

            runtime.app.twiml_parameters[owner] = stream_parameters(answer.body)
        return Response(answer.body, status_code=answer.status,
                        media_type=answer.headers.get("Content-Type", "text/xml"))

    async def media(ws: WebSocket) -> None:
        await ws.accept()
        queue: asyncio.Queue[str | None] = asyncio.Queue(SEND_QUEUE_LIMIT)
        outlet = Outlet(send=lambda text: queue.put_nowait(text))
        writer = asyncio.ensure_future(_write(ws, queue))
        call: str | None = None
        stopped = False
        try:
            while True:
                try:
                    text = await ws.receive_text()
                except (WebSocketDisconnect, RuntimeError):
                    break
                try:
                    msg: Any = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(msg, dict):
                    continue
                event = msg.get("event")
                if event == "start" and call is None:
                    call = str((msg.get("start") or {}).get("callSid") or "")
                    if not call:
                        continue
                    runtime.handle(call, partial(runtime.open_call, call, outlet))
                if call is None:
                    continue
                if event == "media":
                    runtime.queue_frame(call, msg)
                else:
                    runtime.handle(call, partial(runtime.app.deliver_from_twilio, call, msg))
                    if event == "stop":
                        stopped = True
                        sock = runtime.app.sockets.get(call)
                        if sock is not None:
                            runtime.handle(call, partial(runtime.app.shutdown_socket, sock.handler,
                                                         "twilio_stop_event"))
                        break
        finally:
            if call is not None and not stopped:
                sock = runtime.app.sockets.get(call)
                if sock is not None and not sock.closed:
                    def dropped(s=sock) -> None:
                        runtime.app.shutdown_socket(s.handler, "connection_closed")
                        s.handler.on_socket_closed()
                    runtime.handle(call, dropped)
            outlet.closed = True
            if not writer.done():
                queue.put_nowait(None)
            await asyncio.gather(writer, return_exceptions=True)

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    paths = sorted({p for p in WEBHOOK_ROUTES if p.startswith("/")})
    routes: list[Any] = [Route(p, webhook, methods=["GET", "POST"]) for p in paths]
    routes += [Route("/twiml/incoming/{tenant}", webhook, methods=["GET", "POST"]),
               Route("/twiml/outbound/{tenant}", webhook, methods=["GET", "POST"]),
               Route("/webhook/{name}", webhook, methods=["GET", "POST"]),
               Route("/health", health), WebSocketRoute("/ws/twilio-media", media)]
    return Starlette(routes=routes, lifespan=lifespan)


async def _write(ws: WebSocket, queue: asyncio.Queue[str | None]) -> None:
    """Send the model's messages in order; ``None`` closes the socket from the server's side."""
    try:
        while True:
            text = await queue.get()
            if text is None:
                await ws.close(1000)
                return
            await ws.send_text(text)
    except (WebSocketDisconnect, RuntimeError):
        return
