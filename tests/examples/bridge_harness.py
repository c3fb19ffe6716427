"""Tiny fakes for testing the example bridge: a realtime service, Twilio's REST API, and Twilio itself.

They are deliberately small (the proper emulators live in callreplay); everything runs in one event loop on
loopback, every wait is bounded, and every server is stopped when its context exits.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiohttp import web
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from examples.bridge import Settings, create_app

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"
DELTA_BYTES = 400
DELTAS = 3
WAIT_S = 3.0

BUSINESSES: list[dict[str, Any]] = [
    {"id": 7, "name": "Dana Dental", "phone": "+97231234567", "channels": ["+97239005599"],
     "greeting": "Hello, {{business_name}} speaking, how can I help?", "voice": "coral", "ai_provider": "openai",
     "settings": {"ai_prompt": "INBOUND-SCRIPT: answer questions about the opening hours of {{business_name}}.",
                  "outbound_ai_prompt": {"calls": "OUTBOUND-SCRIPT: offer the spring whitening discount.",
                                         "whatsapp": "WHATSAPP-SCRIPT"}, "call_goal": "appointment"}},
    {"id": 8, "name": "Empty Inbound Ltd", "phone": "+97231110000", "greeting": "Hi!", "voice": "ash",
     "settings": {"ai_prompt": "", "outbound_ai_prompt": "OUTBOUND-ONLY: sell the annual plan."}},
    {"id": 9, "name": "Long Prompt Co", "phone": "+97231119999", "voice": "sage",
     "settings": {"ai_prompt": "RULE. " * 300 + "THE-LAST-RULE"}},
]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One CA store load for all harnesses (httpx would load it per client; only plain http is used here)."""
    return ssl.create_default_context()


def sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


@dataclass
class RealtimeSession:
    """One connection to the fake realtime service: its upgrade headers and every client event."""

    headers: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]


class FakeRealtime:
    """session.created; session.updated (or the service's error for temperature < 0.6); one response of three
    400-byte audio deltas per response.create. With ``barge_in`` the caller "speaks" after the first delta and
    the response ends only when the client cancels it. With ``close_after_greeting`` the service closes the
    socket once the first response is done."""

    def __init__(self, barge_in: bool = False, close_after_greeting: bool = False) -> None:
        self.barge_in = barge_in
        self.close_after_greeting = close_after_greeting
        self.sessions: list[RealtimeSession] = []
        self.url = ""

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeRealtime]:
        async with serve(self._handle, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}/v1/realtime"
            yield self

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        session = RealtimeSession(headers={k.lower(): v for k, v in connection.request.headers.raw_items()})
        session.headers[":path"] = connection.request.path
        self.sessions.append(session)
        beta = session.headers.get("openai-beta") == "realtime=v1"
        delta = "response.audio.delta" if beta else "response.output_audio.delta"
        try:
            await self._send(connection, {"type": "session.created", "session": {}})
            async for raw in connection:
                event = json.loads(raw)
                session.events.append(event)
                kind = event.get("type")
                if kind == "session.update":
                    temperature = event["session"].get("temperature")
                    if temperature is not None and temperature < 0.6:
                        await self._send(connection, {"type": "error", "error": {
                            "type": "invalid_request_error", "code": "decimal_below_min_value",
                            "param": "session.temperature", "message": "decimal below minimum value"}})
                    else:
                        await self._send(connection, {"type": "session.updated", "session": event["session"]})
                elif kind == "response.create":
                    await self._send(connection, {"type": "response.created", "response": {"id": "resp_1"}})
                    for index in range(1 if self.barge_in else DELTAS):
                        audio = bytes([index + 1]) * DELTA_BYTES
                        await self._send(connection, {"type": delta, "delta": base64.b64encode(audio).decode()})
                    if self.barge_in:
                        await self._send(connection, {"type": "input_audio_buffer.speech_started"})
                    else:
                        await self._send(connection, {"type": delta.replace(".delta", ".done")})
                        await self._send(connection, {"type": "response.done", "response": {"status": "completed"}})
                        if self.close_after_greeting:
                            await connection.close(1001, "session ended")
                            return
                elif kind == "response.cancel":
                    await self._send(connection, {"type": delta, "delta": base64.b64encode(b"\x09" * 160).decode()})
                    await self._send(connection, {"type": "response.done", "response": {"status": "cancelled"}})
        finally:
            session.closed.set()

    @staticmethod
    async def _send(connection: ServerConnection, event: dict[str, Any]) -> None:
        await connection.send(json.dumps(event))


class FakeRest:
    """Twilio's REST API for calls: create (201) and update (200); records every request's path and form."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.base = ""

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeRest]:
        app = web.Application()
        app.router.add_post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json", self._create)
        app.router.add_post(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{{sid}}.json", self._update)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            await runner.cleanup()

    async def _record(self, request: web.Request) -> dict[str, list[str]]:
        form = await request.post()
        fields: dict[str, list[str]] = {}
        for key, value in form.items():
            fields.setdefault(key, []).append(str(value))
        self.requests.append((request.path, fields))
        return fields

    async def _create(self, request: web.Request) -> web.Response:
        fields = await self._record(request)
        return web.json_response({"sid": sid("CA"), "status": "queued", "to": fields["To"][0],
                                  "from": fields["From"][0], "direction": "outbound-api"}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        fields = await self._record(request)
        return web.json_response({"sid": request.match_info["sid"], "status": fields.get("Status", [""])[0]})


class TwilioStream:
    """The Twilio end of one media socket: sends connected/start/media/stop, collects what the bridge sends."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.stream_sid = sid("MZ")
        self.received: list[dict[str, Any]] = []
        self.sequence = 0

    async def _send(self, event: str, **fields: Any) -> None:
        message: dict[str, Any] = {"event": event, **fields}
        if event != "connected":
            self.sequence += 1
            message.update(sequenceNumber=str(self.sequence), streamSid=self.stream_sid)
        await self.connection.send(json.dumps(message))

    async def start(self, call_sid: str, parameters: dict[str, str]) -> None:
        await self._send("connected", protocol="Call", version="1.0.0")
        await self._send("start", start={
            "streamSid": self.stream_sid, "accountSid": ACCOUNT_SID, "callSid": call_sid, "tracks": ["inbound"],
            "customParameters": parameters,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}})

    async def media(self, count: int, fill: int = 0x7E) -> list[str]:
        payloads = []
        for chunk in range(count):
            payload = base64.b64encode(bytes([fill]) * 160).decode()
            payloads.append(payload)
            await self._send("media", media={"track": "inbound", "chunk": str(chunk + 1),
                                             "timestamp": str(chunk * 20), "payload": payload})
        return payloads

    async def echo_mark(self, name: str) -> None:
        await self._send("mark", mark={"name": name})

    async def stop(self) -> None:
        await self._send("stop", stop={"accountSid": ACCOUNT_SID, "callSid": ""})

    async def receive_until(self, done: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S) -> None:
        """Collect messages until one satisfies ``done``; fails after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.connection.recv())
                self.received.append(message)
                if done(message):
                    return

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("event") == kind]

    def audio(self) -> list[bytes]:
        return [base64.b64decode(m["media"]["payload"]) for m in self.events("media")]


@dataclass
class Harness:
    """A running bridge with its fakes; ``base`` is the bridge's http URL."""

    base: str
    realtime: FakeRealtime
    rest: FakeRest
    app_state: Any
    http: httpx.AsyncClient
    public_url: str | None = None  # what Twilio thinks it calls (and signs), when it is not ``base``

    @property
    def host(self) -> str:
        return self.base.removeprefix("http://")

    @property
    def signed_base(self) -> str:
        return self.public_url or self.base

    async def webhook(self, path: str, params: dict[str, str], signed: bool = True) -> httpx.Response:
        """POST a form the way Twilio does, signed over the exact URL unless ``signed`` is False."""
        url = f"{self.signed_base}{path}"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params) if signed else "bogus"
        return await self.http.post(f"{self.base}{path}", data=params, headers={"X-Twilio-Signature": signature})

    @asynccontextmanager
    async def stream(self, signed: bool = True) -> AsyncIterator[TwilioStream]:
        """Open the media socket with the upgrade signed over ``wss://{host}/media-stream``."""
        wss = f"wss://{self.signed_base.split('://', 1)[1]}/media-stream"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(wss, {}) if signed else "bogus"
        async with connect(f"ws://{self.host}/media-stream", open_timeout=WAIT_S, close_timeout=1,
                           additional_headers={"X-Twilio-Signature": signature}) as connection:
            yield TwilioStream(connection)


def call_params(call_sid: str, to: str, direction: str = "inbound", from_: str = "+972501234567") -> dict[str, str]:
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_sid, "CallStatus": "ringing",
            "Direction": direction, "From": from_, "To": to, "Caller": from_, "Called": to}


@asynccontextmanager
async def running_bridge(tmp_path: Path, bugs: str = "", beta: bool = False, barge_in: bool = False,
                         close_after_greeting: bool = False, public_url: str | None = None,
                         realtime_url: str | None = None) -> AsyncIterator[Harness]:
    """The bridge served by uvicorn on a free loopback port, with a fresh fake realtime service and REST API."""
    businesses = tmp_path / "businesses.json"
    businesses.write_text(json.dumps(BUSINESSES), encoding="utf-8")
    async with (FakeRealtime(barge_in, close_after_greeting).running() as realtime, FakeRest().running() as rest,
                httpx.AsyncClient(timeout=WAIT_S, verify=tls_context()) as http):
        settings = Settings.from_env({
            "PORT": "0", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE": rest.base, "OPENAI_API_KEY": "sk-test",
            "OPENAI_REALTIME_URL": realtime_url or realtime.url,
            "OPENAI_BETA": "1" if beta else "", "CALLREPLAY_BUSINESSES_FILE": str(businesses), "BRIDGE_BUGS": bugs,
            "PUBLIC_URL": public_url or ""})
        app = create_app(settings)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, ws="websockets-sansio",
                                               log_config=None, log_level="warning", lifespan="on",
                                               timeout_graceful_shutdown=2))
        task = asyncio.create_task(server.serve())
        try:
            async with asyncio.timeout(WAIT_S):
                while not server.started:
                    await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            yield Harness(base=f"http://127.0.0.1:{port}", realtime=realtime, rest=rest,
                          app_state=app.state.bridge, http=http, public_url=public_url)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)
