"""One sequenceNumber counter across media and marks, even when a mark is echoed from a timer between two
frames: the mark is numbered and counted in the same step, so no frame can take its number (a race that made
the healthy bridge show seq-backwards then seq-skip on a loaded machine)."""

from __future__ import annotations

import asyncio
import json

import numpy as np

from callreplay.audio.frames import FrameBatch
from callreplay.feeds import start_feed
from callreplay.live.media_socket import LiveMediaSocket, _PendingMark
from callreplay.live.recorder import LiveRecorder
from callreplay.twilio.stream import TwilioStream


class _Transport:
    def get_write_buffer_size(self) -> int:
        return 0


class _OpenSocket:
    transport = _Transport()


def test_a_mark_echoed_between_frames_takes_its_own_number():
    async def scenario() -> list[str]:
        stream = TwilioStream("CA" + "1" * 32, "MZ" + "2" * 32, {}, schedule=lambda *_: None, deliver=lambda _m: None)
        recorder = LiveRecorder()
        sock = LiveMediaSocket("CA" + "1" * 32, "ws://127.0.0.1:1/m", "wss://x/m", stream, recorder, True, {})
        written: list[str] = []
        sock.ws = _OpenSocket()  # type: ignore[assignment]  # opened; writes go to the list below
        sock._write_now = written.append  # type: ignore[method-assign]
        stream.seq = 1  # 'start' had number 1
        batch = FrameBatch.paced(np.full((4, 160), 0xFF, dtype=np.uint8))
        feed = start_feed(sock.call, batch, stream, "steps[0]")
        sock.feeds.append(feed)
        await sock.send_frames(feed, 0)               # frame 1 -> seq 2
        sock._echo_soon(_PendingMark("greeting"))      # a timer fires: the mark is numbered now (3)
        await sock.send_frames(feed, 20_000)          # frame 2 must be 4, not 3
        await asyncio.sleep(0)                        # let any deferred work run
        await sock.send_frames(feed, 60_000)          # frames 3 and 4: 5 and 6
        return written

    written = asyncio.run(scenario())
    numbers = [int(json.loads(text)["sequenceNumber"]) for text in written]
    assert numbers == [2, 3, 4, 5, 6]
    assert [json.loads(text)["event"] for text in written] == ["media", "mark", "media", "media", "media"]
