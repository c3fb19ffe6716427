"""The Starlette app: routes, the media socket endpoint, and shutdown of what a call may have left open."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from examples.bridge import webhooks
from examples.bridge.config import Settings
from examples.bridge.media import MediaBridge, close_quietly
from examples.bridge.state import BridgeState

log = logging.getLogger("examples.bridge")


async def media_stream(websocket: WebSocket) -> None:
    """Twilio's bidirectional Media Stream; an unsigned upgrade is refused (HTTP 403 before the handshake)."""
    state = webhooks.bridge_state(websocket)
    if not webhooks.signed_upgrade(websocket):
        log.warning("rejected media socket: bad X-Twilio-Signature")
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await MediaBridge(websocket, state).run()
    await close_quietly(websocket)


def create_app(settings: Settings) -> Starlette:
    """The bridge for ``settings``; every app has its own call store and Twilio client."""
    state = BridgeState.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        for session in state.leaked_sessions:
            await session.close()

    app = Starlette(lifespan=lifespan, routes=[
        Route("/voice/incoming", webhooks.incoming_call, methods=["POST"]),
        Route("/voice/outbound", webhooks.outbound_call, methods=["POST"]),
        Route("/voice/status", webhooks.call_status, methods=["POST"]),
        Route("/voice/stream-ended", webhooks.stream_ended, methods=["POST"]),
        Route("/calls", webhooks.create_call, methods=["POST"]),
        Route("/calls/{call_sid}", webhooks.call_record, methods=["GET"]),
        Route("/health", webhooks.health, methods=["GET"]),
        WebSocketRoute("/media-stream", media_stream),
    ])
    app.state.bridge = state
    if settings.bugs:
        log.warning("bug switches on: %s", ", ".join(sorted(settings.bugs)))
    return app
