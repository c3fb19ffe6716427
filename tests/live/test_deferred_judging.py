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


def test_with_frames_due_back_to_back_kept_media_is_still_judged_for_the_budget():
    # 200 calls spread over a 20 ms period: a frame is due every 0.1 ms, so there is never a millisecond of
    # slack; kept media must still be judged a little at every wake-up, or it piles up until a clear forces
    # every stream's backlog at once
    import time

    from callreplay.live.pacer import JUDGE_BUDGET_NS, FramePacer

    async def run() -> tuple[int, int]:
        pacer = FramePacer()
        pacer.task = asyncio.ensure_future(asyncio.sleep(0))  # running, as far as defer() can tell
        sock = _socket(pacer)
        for _ in range(5000):
            sock._judge(MESSAGES[0])
        kept = len(sock.deferred)
        pacer.heap.append((time.monotonic_ns(), 0, None))  # the next frame is due now
        pacer._judge_in_slack()
        await pacer.task
        return kept, kept - len(sock.deferred)

    kept, judged = asyncio.run(run())
    # some judged, and judging stopped at the budget: 5,000 messages take far longer than 0.3 ms
    assert JUDGE_BUDGET_NS == 300_000 and 0 < judged < kept


class _OpenSocket:
    """What ``_write_now`` needs of a connected client socket: open, idle, and a transport that keeps the frames."""

    class _Transport:
        def __init__(self) -> None:
            self.frames: list[bytes] = []

        def write(self, data: bytes) -> None:
            self.frames.append(data)

        def get_write_buffer_size(self) -> int:
            return 0

    def __init__(self) -> None:
        from websockets.protocol import State

        self.protocol = type("P", (), {"state": State.OPEN})()
        self.send_in_progress = None
        self.transport = self._Transport()


def _unmasked(frame: bytes) -> bytes:
    """The payload of one masked client text frame (RFC 6455 5.2)."""
    length, at = frame[1] & 0x7F, 2
    if length == 126:
        length, at = int.from_bytes(frame[2:4], "big"), 4
    mask, body = frame[at:at + 4], frame[at + 4:at + 4 + length]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(body))


def test_a_scripted_message_leaves_after_the_caller_frames_due_before_it():
    # the loop fell behind: frames due before a raw message are still waiting for the pacer when the message
    # is sent; they go first, numbered in order, so no sequence problem is reported that the run itself caused
    from callreplay.audio.frames import FrameBatch
    from callreplay.audio.sources import silence
    from callreplay.feeds import start_feed

    async def run() -> LiveMediaSocket:
        sock = _socket(None)
        sock.ws = _OpenSocket()
        batch = FrameBatch.paced(silence(100_000), start_us=-200_000)  # five frames, all due already
        feed = start_feed(sock.call, batch, sock.stream, "steps[3]")
        sock.feeds.append(feed)
        await sock.catch_up()  # as the driver does before every scripted step
        assert feed.done
        # audio still to come while a raw message goes out: the message takes no number, so it goes on from 6
        later = FrameBatch.paced(silence(20_000), start_us=sock.recorder.now_us() + 30_000)
        sock.feeds.append(start_feed(sock.call, later, sock.stream, "steps[5]"))
        await sock.send_raw({"event": "media", "media": {"track": "outbound", "payload": "AA=="}})  # a raw step
        await asyncio.sleep(0.06)
        await sock.catch_up()
        await sock.send(sock.stream.mark_message("m"))  # a numbered one takes 7
        return sock

    sock = asyncio.run(run())
    kinds = [kind for *_, kind, _ in sock.recorder._rows]
    assert "ws.protocol" not in kinds
    sent = [json.loads(_unmasked(frame)) for frame in sock.ws.transport.frames]
    assert [int(m["sequenceNumber"]) for m in sent[:5]] == [1, 2, 3, 4, 5]
    assert sent[5] == {"event": "media", "media": {"track": "outbound", "payload": "AA=="}}
    assert [int(m["sequenceNumber"]) for m in sent[6:]] == [6, 7] and sent[7]["event"] == "mark"
