"""One pacer for every stream of a live run: each frame leaves at its 20 ms schedule.

A task per stream would wake 50 times a second per call, and a pacer that looked at every
stream on every wake-up would do hundreds of checks per frame sent. This one keeps the streams
in a heap ordered by when their next frame is due: a wake-up sends what is due and touches
nothing else, then sleeps until the next frame (never less than ``MIN_SLEEP_S``, which bounds the
wake-up rate while keeping lateness well under the 5 ms budget).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..feeds import Feed

if TYPE_CHECKING:  # pragma: no cover
    from .media_socket import LiveMediaSocket
    from .recorder import LiveRecorder

MIN_SLEEP_S = 0.001
IDLE_S = 0.05
JUDGE_MARGIN_NS = 1_000_000  # judging the server's media stops this long before the next frame is due
# ... but takes at least this long per wake-up: with many calls, frames fall due back to back and there is no
# slack, and a backlog judged only when a clear or a mark forces it (all streams at once, on a barge-in) would
# stall every call's frames for a tenth of a second and more
JUDGE_BUDGET_NS = 300_000


@dataclass
class _Lane:
    recorder: LiveRecorder
    socket: LiveMediaSocket
    feed: Feed

    @property
    def live(self) -> bool:
        return not self.feed.done and not self.socket.closed

    def due_ns(self) -> int:
        """When the next frame is due, on the monotonic clock every recorder counts from."""
        return self.recorder.t0_ns + self.feed.next_us() * 1000


@dataclass
class FramePacer:
    heap: list[tuple[int, int, _Lane]] = field(default_factory=list)
    order: itertools.count = field(default_factory=itertools.count)
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    _sleeper: asyncio.Future[None] | None = None
    _held: list[asyncio.Transport] = field(default_factory=list)
    _to_judge: deque[LiveMediaSocket] = field(default_factory=deque)

    def frames_due(self) -> bool:
        """A frame is due now (the server's messages can wait the moment it takes to send it)."""
        return bool(self.heap) and self.heap[0][0] <= time.monotonic_ns()

    def hold(self, transport: asyncio.Transport) -> None:
        """Pause reading ``transport`` until the frames that are due have been sent."""
        transport.pause_reading()
        self._held.append(transport)
        self._wake()

    def defer(self, socket: LiveMediaSocket) -> bool:
        """Judge ``socket``'s kept media in the time between frames; False if this pacer is not running."""
        if self.task is None or self.task.done() or self.stopping:
            return False
        self._to_judge.append(socket)
        if not self.heap:
            self._wake()
        return True

    def _judge_in_slack(self) -> None:
        """Judge kept server media until the next frame is nearly due, or for ``JUDGE_BUDGET_NS`` if that is
        longer (all of it when no frame is)."""
        until = (max(self.heap[0][0] - JUDGE_MARGIN_NS, time.monotonic_ns() + JUDGE_BUDGET_NS)
                 if self.heap else None)
        queue = self._to_judge
        while queue:
            if not queue[0].judge_deferred(until):
                return
            queue.popleft()

    def _release(self) -> None:
        held, self._held = self._held, []
        for transport in held:
            if not transport.is_closing():
                transport.resume_reading()

    @property
    def lanes(self) -> list[_Lane]:
        return [lane for _, _, lane in self.heap]

    def add(self, recorder: LiveRecorder, socket: LiveMediaSocket, feed: Feed) -> None:
        lane = _Lane(recorder, socket, feed)
        if lane.live:
            heapq.heappush(self.heap, (lane.due_ns(), next(self.order), lane))
        if self.task is None:
            self.task = asyncio.ensure_future(self._run())
        self._wake()

    async def stop(self) -> None:
        self.stopping = True
        self._judge_all()
        self._release()
        self._wake()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    def _judge_all(self) -> None:
        while self._to_judge:
            self._to_judge.popleft().judge_deferred()

    def _wake(self) -> None:
        if self._sleeper is not None and not self._sleeper.done():
            self._sleeper.set_result(None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        heap = self.heap
        while not self.stopping:
            while heap and heap[0][0] <= time.monotonic_ns():
                _, n, lane = heapq.heappop(heap)
                if not lane.live:
                    continue
                await lane.socket.send_frames(lane.feed, lane.recorder.now_us())
                if lane.live:
                    heapq.heappush(heap, (lane.due_ns(), n, lane))
            self._release()
            self._judge_in_slack()
            timeout = IDLE_S if not heap else max((heap[0][0] - time.monotonic_ns()) / 1e9, MIN_SLEEP_S)
            self._sleeper = loop.create_future()
            timer = loop.call_later(timeout, _settle, self._sleeper)
            try:
                await self._sleeper
            finally:
                timer.cancel()
                self._sleeper = None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
