"""The one Twilio side: the live pacer's fast media text is the engine's media message, byte for byte."""

from __future__ import annotations

import json

import pytest

from callreplay.twilio.stream import TwilioStream


def _stream(stream_sid: str) -> TwilioStream:
    return TwilioStream("CA" + "1" * 32, stream_sid, {}, schedule=lambda *_: None, deliver=lambda _m: None)


@pytest.mark.parametrize("stream_sid, payload, track", [
    ("MZ" + "a" * 32, "//9/f3/+", "inbound"),
    ("MZ" + "b" * 32, "", "outbound"),
    ('MZ"odd\\sid\u00e9', 'not"base64\\', "inbound"),   # a scenario's own streamSid and a recording's payload
])
def test_media_text_is_the_media_message_serialised(stream_sid: str, payload: str, track: str) -> None:
    fast, slow = _stream(stream_sid), _stream(stream_sid)
    text = fast.media_text(payload, 7, 5, 80, track)
    expected = json.dumps(slow.media_message(payload, 7, 5, 80, track), separators=(",", ":"))
    assert text == expected
    assert json.loads(text)["media"]["payload"] == payload
    assert (fast.seq, fast.chunk) == (slow.seq, slow.chunk) == (7, 5)
