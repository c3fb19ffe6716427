"""Deterministic capture files for the import tests (no network, fixed times)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from callreplay.audio import sources
from callreplay.capture.capture_file import CaptureWriter

from .refapp import ACCOUNT_SID, BUSINESS_PHONE, CALLER, STREAM_SID, twiml

AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
API_KEY = "SK" + "9" * 32
SIGNATURE = "bGVha2VkLXNpZ25hdHVyZS12YWx1ZQ=="


def write_capture(path: Path, call_sid: str, *, seconds: float = 1.0, caller: str = CALLER,
                  to: str = BUSINESS_PHONE, t0_us: int = 0, media_gap_after: int | None = None,
                  seq_skip_at: int | None = None) -> list[bytes]:
    """An unredacted capture of one call (as recorded with --keep phones,tokens,signatures)."""
    frames = [bytes(f) for f in sources.speech(int(seconds * 1_000_000), 1500, 11)]
    w = CaptureWriter(path, call_sid, "2026-01-08T08:00:00.000000+00:00")
    t = t0_us
    w.write(t, "http.request", method="POST", path="/webhook/incoming_call", query={"key": API_KEY},
            form={"CallSid": call_sid, "From": caller, "To": to, "Direction": "inbound", "AccountSid": ACCOUNT_SID,
                  "AuthToken": AUTH_TOKEN},
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": SIGNATURE,
                     "Authorization": "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()})
    w.write(t + 3_000, "http.response", status=200, content_type="application/xml",
            body=twiml(call_sid, to, caller, 7), rewritten=True)
    t += 400_000
    w.write(t, "ws.open", path="/ws/twilio-media", subprotocol=None)
    w.write(t + 1_000, "ws.in", text=json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    start = {"event": "start", "sequenceNumber": "1", "streamSid": STREAM_SID,
             "start": {"streamSid": STREAM_SID, "accountSid": ACCOUNT_SID, "callSid": call_sid, "tracks": ["inbound"],
                       "customParameters": {"CallSid": call_sid, "To": to, "From": caller, "business_id": "7"},
                       "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    w.write(t + 20_000, "ws.in", text=json.dumps(start))
    w.write(t + 25_000, "ws.out", text=json.dumps({"event": "mark", "streamSid": STREAM_SID, "mark": {"name": "g"}}))
    seq = 2
    at = t + 40_000
    for i, frame in enumerate(frames):
        if i == media_gap_after:
            at += 500_000
        if i == seq_skip_at:
            seq += 3
        msg = {"event": "media", "sequenceNumber": str(seq), "streamSid": STREAM_SID,
               "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20),
                         "payload": base64.b64encode(frame).decode()}}
        w.write(at + 137, "ws.in", text=json.dumps(msg, separators=(",", ":")))
        seq += 1
        at += 20_000
    w.write(at + 5_000, "ws.in", text=json.dumps({"event": "stop", "sequenceNumber": str(seq), "streamSid": STREAM_SID,
                                                  "stop": {"accountSid": ACCOUNT_SID, "callSid": call_sid}}))
    w.write(at + 6_000, "ws.close", code=1000, by="twilio")
    w.close()
    return frames
