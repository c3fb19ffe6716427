"""The recording proxy redacts every message it writes (media ones too) and bounds every line, so
its own importer reads back whatever it recorded."""

from __future__ import annotations

import asyncio
import json

import websockets

from callreplay.capture.capture_file import MAX_FIELD_CHARS, MAX_LINE_BYTES, read_capture
from callreplay.capture.importers.from_capture import import_capture

from .refapp import (
    CALL_SID,
    CALLER,
    drain,
    post_webhook,
    recording_proxy,
    speech_frames,
    stream_url_of,
    twilio_messages,
)

TOKEN = "0123456789abcdef" * 2


def _hostile_messages() -> list[str]:
    """A normal call whose media messages carry a phone number and a token outside the payload, and
    one message far larger than a capture line may be."""
    messages = twilio_messages(speech_frames(0.2))
    media = json.loads(messages[2])
    media["media"]["track"] = f"inbound {CALLER} {TOKEN}"
    messages[2] = '{"event":"media"' + json.dumps(media, separators=(",", ":"))[len('{"event":"media"'):]
    messages.insert(3, json.dumps({"event": "mark", "streamSid": "MZ" + "cd" * 16,
                                   "mark": {"name": "x" * (MAX_FIELD_CHARS + 10)}}))
    return messages


async def _record(out) -> None:
    async with recording_proxy(out) as (proxy_port, _):
        url = stream_url_of(await post_webhook(proxy_port))
        async with websockets.connect(url, max_size=None) as ws:
            for text in _hostile_messages():
                await ws.send(text)
            await drain(ws)


def test_media_messages_are_redacted_and_long_lines_bounded(tmp_path):
    out = tmp_path / "captures"
    asyncio.run(asyncio.wait_for(_record(out), 30))
    path = out / f"{CALL_SID}.jsonl"
    raw = path.read_bytes()
    assert CALLER.encode() not in raw and TOKEN.encode() not in raw
    assert max(len(line) for line in raw.split(b"\n")) <= MAX_LINE_BYTES
    records = list(read_capture(path))
    media = [json.loads(r["text"]) for r in records if r["type"] == "ws.in" and '"media"' in r["text"][:20]]
    track = media[0]["media"]["track"]
    assert track.startswith("inbound +1555") and "[REDACTED]" in track
    assert media[1]["media"]["payload"] == json.loads(twilio_messages(speech_frames(0.2))[3])["media"]["payload"]
    cut = {r["type"]: r["truncated"] for r in records if r.get("truncated")}  # the app echoes the mark back
    assert cut == {"ws.in": {"text": len(_hostile_messages()[3])}, "ws.out": {"text": len(_hostile_messages()[3])}}

    report = import_capture([path], tmp_path / "scenario.yaml")
    assert any("cut at capture" in problem for problem in report.problems)
