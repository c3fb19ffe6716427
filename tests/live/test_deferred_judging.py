"""Server media judged in the pacer's slack gives the same trace rows as judging each message on arrival."""

from __future__ import annotations

import asyncio
import base64
import json

from callreplay.live.media_socket import LiveMediaSocket
from callreplay.live.recorder import LiveRecorder
from callreplay.twilio.stream import TwilioStream

SID = "MZ" + "2" * 32


class _Pacer:
    """Accepts every deferral, as a running pacer does; judging waits until the test asks."""

    def __init__(self) -> None:
        self.deferred: list[LiveMediaSocket] = []

    def defer(self, socket: LiveMediaSocket) -> bool:
        self.deferred.append(socket)
        return True


def _socket(pacer) -> LiveMediaSocket:
    stream = TwilioStream("CA" + "1" * 32, SID, {}, lambda *a: None, lambda m: None)
    return LiveMediaSocket("CA1", "ws://x", "ws://x", stream, LiveRecorder(), True, {}, pacer=pacer)


def _media(payload: bytes, sid: str = SID) -> str:
    return json.dumps({"event": "media", "streamSid": sid, "media": {"payload": base64.b64encode(payload).decode()}})


MESSAGES = [_media(bytes([0x10 + i]) * 160) for i in range(3)] + [
    _media(b"\xff" * 160, sid="MZwrong"),
    json.dumps({"event": "media", "streamSid": SID, "media": {"payload": "@@not base64@@"}}),
    json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": "after-three"}}),
    _media(b"\x22" * 320),
]


def _rows(pacer) -> tuple[list[tuple], LiveMediaSocket]:
    async def run() -> LiveMediaSocket:
        sock = _socket(pacer)
        for message in MESSAGES:
            sock._judge(message)
        sock.judge_deferred()
        for pending in sock.pending_marks:
            pending.handle.cancel()
        return sock
    sock = asyncio.run(run())
    rows = [(kind, {k: v for k, v in data.items() if not k.startswith("plays_")})
            for _, _, _, kind, data in sock.recorder._rows]
    return rows, sock


def test_deferred_media_is_judged_in_arrival_order_before_the_mark_that_follows_it():
    deferred_rows, deferred = _rows(_Pacer())
    inline_rows, inline = _rows(None)
    assert deferred_rows == inline_rows
    kinds = [(kind, data.get("event") or data.get("problem")) for kind, data in deferred_rows]
    assert kinds == [("ws.out", "media")] * 3 + [("ws.app_problem", "wrong-stream-sid"),
                                                ("ws.app_problem", "bad-payload"), ("ws.out", "mark"),
                                                ("ws.out", "media")]
    # the mark saw the three frames queued before it: it waits for them to play out
    assert deferred.pending_marks and deferred.playout_end_us >= 5 * 20_000 - 1


def test_media_waits_for_the_pacer_and_anything_else_is_judged_at_once():
    pacer = _Pacer()

    async def run() -> LiveMediaSocket:
        sock = _socket(pacer)
        sock._judge(MESSAGES[0])
        sock._judge(MESSAGES[1])
        assert [kind for *_, kind, _ in sock.recorder._rows] == []  # kept for the pacer's slack
        assert len(sock.deferred) == 2 and pacer.deferred == [sock]  # one deferral per stream while kept
        sock._judge("not json")  # judged now, after the two kept before it
        return sock

    sock = asyncio.run(run())
    assert [data.get("event") or data.get("problem") for *_, data in sock.recorder._rows] == [
        "media", "media", "not-json"]
    assert not sock.deferred


def test_media_kept_before_an_echo_step_is_judged_first_and_not_echoed_back():
    async def run() -> LiveMediaSocket:
        sock = _socket(_Pacer())
        sock._judge(MESSAGES[0])
        sock.echo_from_now()
        assert not sock.deferred and sock.echo_line is not None
        assert sock.echo_line.written_until == 0  # the audio before the step is not on the echo line
        sock._judge(MESSAGES[1])  # from now on judged at once, onto the line
        return sock

    sock = asyncio.run(run())
    assert [data.get("event") for *_, data in sock.recorder._rows] == ["media", "media"]
    assert sock.echo_line is not None and sock.echo_line.written_until > 0
