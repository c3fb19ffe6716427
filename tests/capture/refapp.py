"""A small reference application for the recording tests: the pipeline's webhook and Media Streams socket.

``/webhook/incoming_call`` answers TwiML built exactly like ``callreplay.pipeline.webhooks._twiml_stream``
(public host ``voice.example.test``, business resolved from ``To``); ``/ws/twilio-media`` accepts a
Media Streams socket, answers ``start`` with a ``mark`` and echoes every ``mark`` it receives.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import numpy as np
import websockets
from aiohttp import web
from twilio.twiml.voice_response import Connect, VoiceResponse

from callreplay.audio import sources

HOST = "voice.example.test"
BUSINESS_PHONE = "+97231234567"
CALLER = "+972501234567"
CALL_SID = "CA" + "ab" * 16
STREAM_SID = "MZ" + "cd" * 16
ACCOUNT_SID = "AC" + "ef" * 16


def twiml(call_sid: str, to: str, from_: str, business_id: int | None) -> str:
    response = VoiceResponse()
    connect = Connect(action=f"https://{HOST}/webhook/stream_ended")
    stream = connect.stream(url=f"wss://{HOST}/ws/twilio-media", track="inbound_track")
    params = [("CallSid", call_sid), ("To", to or "unknown"), ("From", from_ or "unknown")]
    if business_id:
        params.append(("business_id", str(business_id)))
    for name, value in params:
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def make_app(businesses: dict[str, int]) -> web.Application:
    async def incoming(request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.method == "POST" else dict(request.query)
        business = businesses.get(form.get("To", ""))
        body = twiml(form.get("CallSid", ""), form.get("To", ""), form.get("From", ""), business)
        return web.Response(text=body, content_type="application/xml")

    async def media(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        stream_sid = None
        async for msg in ws:
            data = json.loads(msg.data)
            if data.get("event") == "start":
                stream_sid = data["start"]["streamSid"]
                await ws.send_str(json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": "greeting"}}))
            elif data.get("event") == "mark":
                await ws.send_str(json.dumps({"event": "mark", "streamSid": stream_sid, "mark": data["mark"]}))
            elif data.get("event") == "stop":
                break
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_route("*", "/webhook/incoming_call", incoming)
    app.router.add_get("/ws/twilio-media", media)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


def speech_frames(seconds: float, seed: int = 5) -> np.ndarray:
    return sources.speech(int(seconds * 1_000_000), 1500, seed)


def twilio_messages(frames: np.ndarray) -> list[str]:
    """connected, start, one media message per frame, stop: as Twilio numbers them."""
    out = [json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
           json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": STREAM_SID,
                       "start": {"streamSid": STREAM_SID, "accountSid": ACCOUNT_SID, "callSid": CALL_SID,
                                 "tracks": ["inbound"], "customParameters": {
                                     "CallSid": CALL_SID, "To": BUSINESS_PHONE, "From": CALLER, "business_id": "7"},
                                 "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})]
    for i, frame in enumerate(frames):
        out.append(json.dumps({"event": "media", "sequenceNumber": str(i + 2), "streamSid": STREAM_SID,
                               "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20),
                                         "payload": base64.b64encode(bytes(frame)).decode()}},
                              separators=(",", ":")))
    out.append(json.dumps({"event": "stop", "sequenceNumber": str(len(frames) + 2), "streamSid": STREAM_SID,
                           "stop": {"accountSid": ACCOUNT_SID, "callSid": CALL_SID}}))
    return out


async def paced_send(ws_send, messages: list[str], frame_s: float = 0.02) -> None:
    """Send messages at Twilio's cadence: media every 20 ms against a monotonic schedule."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    media_index = 0
    for text in messages:
        if '"event":"media"' in text or '"event": "media"' in text:
            due = start + media_index * frame_s
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            media_index += 1
        await ws_send(text)


WEBHOOK_FORM = {"CallSid": CALL_SID, "From": CALLER, "To": BUSINESS_PHONE, "Direction": "inbound",
                "AccountSid": ACCOUNT_SID}


@asynccontextmanager
async def recording_proxy(out) -> AsyncIterator[tuple[int, int]]:
    """The reference app behind ``callreplay record``'s proxy writing to ``out``: (proxy port, app port)."""
    from callreplay.capture.proxy import CaptureProxy, start_proxy
    from callreplay.capture.redact import Redactor

    app_runner, app_port = await serve(make_app({BUSINESS_PHONE: 7}))
    proxy = CaptureProxy(f"http://127.0.0.1:{app_port}", out, Redactor.for_folder(out, create=True))
    proxy_runner, proxy_port = await start_proxy(proxy, "127.0.0.1", 0)
    try:
        yield proxy_port, app_port
    finally:
        await proxy_runner.cleanup()
        await app_runner.cleanup()


async def post_webhook(port: int) -> str:
    """Twilio's incoming-call webhook (``WEBHOOK_FORM``) to ``port``: the TwiML it answered."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"http://127.0.0.1:{port}/webhook/incoming_call", data=WEBHOOK_FORM) as resp:
            assert resp.status == 200
            return await resp.text()


def stream_url_of(twiml_text: str) -> str:
    match = re.search(r'<Stream [^>]*url="([^"]+)"', twiml_text)
    assert match, twiml_text
    return match.group(1)


async def drain(ws, quiet_s: float = 2.0) -> None:
    """Read what the app sends until it is quiet for ``quiet_s`` or closes the socket."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), quiet_s)
    except (TimeoutError, websockets.ConnectionClosed):
        pass
