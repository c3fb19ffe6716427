"""The virtual clock: the only source of time during a replay.

Model code asks ``clock.now_us`` (microseconds since the scenario's ``clock.start``) or
``clock.epoch()`` (POSIX seconds, what ``time.time()`` would have said). freezegun holds the
process's wall-clock APIs at the same instant, so third-party code that reads the clock (the
appointment block's weekday) sees the virtual time too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .durations import US_PER_S


class VirtualClock:
    """Monotonic virtual time anchored at an aware ``datetime``; only the scheduler moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock start must carry a UTC offset")
        self.start = start
        self._now_us = 0
        self._freezer: Any = None  # freezegun's factory while the clock is entered

    @property
    def now_us(self) -> int:
        return self._now_us

    def advance_to(self, t_us: int) -> None:
        if t_us < self._now_us:
            raise ValueError(f"virtual time cannot go back ({t_us} < {self._now_us})")
        self._now_us = t_us
        if self._freezer is not None:
            self._freezer.move_to(self.datetime())

    def move_to(self, t_us: int, *, sync_wall_clock: bool = True) -> None:
        """Set the time to that of the event being processed, even an earlier one.

        Overlapping calls are delivered a slice at a time, so the engine may process one call's
        frames at 10:00:05 after another call's at 10:00:20. Calls interact only through scheduled
        tasks, which run in due order, so each call's own timeline stays monotonic.

        ``sync_wall_clock=False`` skips moving freezegun: the engine passes it while it delivers
        audio frames, code that never reads the wall clock (a test scans for that).
        """
        self._now_us = t_us
        if sync_wall_clock and self._freezer is not None:
            self._freezer.move_to(self.datetime())

    def datetime(self, t_us: int | None = None) -> datetime:
        return self.start + timedelta(microseconds=self._now_us if t_us is None else t_us)

    def epoch(self, t_us: int | None = None) -> float:
        """POSIX seconds at ``t_us`` (default now), as ``time.time()`` would return."""
        return self.start.timestamp() + (self._now_us if t_us is None else t_us) / US_PER_S

    def __enter__(self) -> VirtualClock:
        from freezegun import freeze_time

        self._freeze = freeze_time(self.datetime(), tick=False)
        self._freezer = self._freeze.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._freezer = None
        self._freeze.stop()
