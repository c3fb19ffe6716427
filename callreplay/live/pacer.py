"""One pacer for every stream of a live run: each frame leaves at its 20 ms schedule.

A task per stream would wake 50 times a second per call; with hundreds of concurrent calls the
wake-ups themselves make frames late. One pacer sends every frame that is due across all streams,
then sleeps until the next one is due (never less than ``MIN_SLEEP_S``, which bounds the wake-up
rate while keeping lateness well under the 5 ms budget).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..feeds import Feed

if TYPE_CHECKING:  # pragma: no cover
    from .media_socket import LiveMediaSocket
    from .recorder import LiveRecorder

MIN_SLEEP_S = 0.001
IDLE_S = 0.05


@dataclass
class _Lane:
    recorder: LiveRecorder
    socket: LiveMediaSocket
    feed: Feed


@dataclass
class FramePacer:
    lanes: list[_Lane] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    stopping: bool = False

    def add(self, recorder: LiveRecorder, socket: LiveMediaSocket, feed: Feed) -> None:
        self.lanes.append(_Lane(recorder, socket, feed))
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        self.wake.set()

    async def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        while not self.stopping:
            self.lanes = [lane for lane in self.lanes if not lane.feed.done and not lane.socket.closed]
            soonest: float | None = None
            for lane in list(self.lanes):
                now = lane.recorder.now_us()
                if lane.feed.next_us() <= now:
                    await lane.socket.send_frames(lane.feed, now)
                if not lane.feed.done and not lane.socket.closed:
                    wait = (lane.feed.next_us() - lane.recorder.now_us()) / 1e6
                    soonest = wait if soonest is None else min(soonest, wait)
            self.wake.clear()
            timeout = IDLE_S if soonest is None else max(soonest, MIN_SLEEP_S)
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except TimeoutError:
                pass
