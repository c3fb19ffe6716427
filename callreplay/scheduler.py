"""A deterministic virtual-time scheduler: the replay's stand-in for threads and sleeps.

Tasks are kept in a heap ordered by ``(due_us, seq)``; ``seq`` is the order of scheduling, so two
tasks due at the same microsecond always run in the order they were scheduled. A background
"thread" of the modelled pipeline is a task scheduled at ``now + latency``.

A task runs at its due time: the clock is moved there, even back from a later point another
call's frames reached (see :meth:`VirtualClock.move_to`).

Every task has an *owner*: the call on whose behalf it was scheduled (inherited from whatever was
running: a step, a frame slice or another task), or ``None`` for shared work. A call's frames
only need to stop at its own tasks and shared ones (:meth:`next_due_for`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from .clock import VirtualClock


@dataclass(order=True)
class _Task:
    due_us: int
    seq: int
    name: str = field(compare=False)
    action: Callable[[], None] = field(compare=False)
    owner: str | None = field(default=None, compare=False)
    cancelled: bool = field(default=False, compare=False)
    done: bool = field(default=False, compare=False)


class TaskHandle:
    """Returned by :meth:`Scheduler.call_at`; lets the owner cancel a task not yet run."""

    def __init__(self, task: _Task) -> None:
        self._task = task

    @property
    def due_us(self) -> int:
        return self._task.due_us

    def cancel(self) -> None:
        self._task.cancelled = True


class Scheduler:
    """Runs tasks in virtual-time order, moving the clock to each task's due time."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._heap: list[_Task] = []
        self._by_owner: dict[str | None, list[_Task]] = {}
        self._seq = 0
        self.current_owner: str | None = None

    def call_at(self, due_us: int, name: str, action: Callable[[], None]) -> TaskHandle:
        due_us = max(due_us, self.clock.now_us)
        self._seq += 1
        task = _Task(due_us, self._seq, name, action, self.current_owner)
        heapq.heappush(self._heap, task)
        heapq.heappush(self._by_owner.setdefault(task.owner, []), task)
        return TaskHandle(task)

    def call_later(self, delay_us: int, name: str, action: Callable[[], None]) -> TaskHandle:
        return self.call_at(self.clock.now_us + delay_us, name, action)

    def next_due_us(self) -> int | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due_us if self._heap else None

    def next_due_for(self, owner: str | None) -> int | None:
        """The next due time among tasks owned by ``owner`` or by nobody."""
        best = None
        for key in {owner, None}:
            heap = self._by_owner.get(key)
            while heap and (heap[0].done or heap[0].cancelled):
                heapq.heappop(heap)
            if heap and (best is None or heap[0].due_us < best):
                best = heap[0].due_us
        return best

    def _run(self, task: _Task) -> None:
        task.done = True
        self.clock.move_to(task.due_us)
        previous, self.current_owner = self.current_owner, task.owner
        try:
            task.action()
        finally:
            self.current_owner = previous

    def run_until(self, t_us: int) -> None:
        """Run every task due at or before ``t_us`` (including ones they schedule), then stop there."""
        while True:
            due = self.next_due_us()
            if due is None or due > t_us:
                break
            self._run(heapq.heappop(self._heap))
        if t_us > self.clock.now_us:
            self.clock.advance_to(t_us)

