"""A small reference application for the recording tests: the pipeline's webhook and Media Streams socket.

``/webhook/incoming_call`` answers TwiML built exactly like ``callreplay.pipeline.webhooks._twiml_stream``
(public host ``voice.example.test``, business resolved from ``To``); ``/ws/twilio-media`` accepts a
Media Streams socket, answers ``start`` with a ``mark`` and echoes every ``mark`` it receives.
"""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
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
