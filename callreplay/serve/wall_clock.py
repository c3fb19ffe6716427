"""The model's clock, driven by the wall clock: virtual time is time since the server started."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ..clock import VirtualClock


class WallClock(VirtualClock):
    """A :class:`VirtualClock` whose "now" is moved to the wall clock before each event is handled."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._t0_ns = time.monotonic_ns()

    def wall_us(self) -> int:
        return (time.monotonic_ns() - self._t0_ns) // 1000

    def catch_up(self) -> int:
        """Move to the present (never back); return it."""
        now = self.wall_us()
        if now > self.now_us:
            self.move_to(now, sync_wall_clock=False)
        return self.now_us
