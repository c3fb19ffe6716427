"""Documented ceilings on what one scenario may ask for, and how a scenario raises them.

Without them ``for: 1000h`` or ``repeat: 1000000000`` validates and then tries to allocate tens of
GiB. Each limit is generous for real calls and overridable per scenario::

    limits: {media_step: 48h, timeline: 2000h, side_file_bytes: 8589934592}

``media_step`` caps the audio one media step expands to (its pattern times ``repeat``, or ``for``),
``timeline`` caps the latest step time (``at`` plus its audio), ``side_file_bytes`` caps a WAV or
recording file opened at replay time (see :mod:`callreplay.safe_open`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..durations import US_PER_S

HOUR_US = 3600 * US_PER_S


@dataclass(frozen=True)
class Limits:
    media_step_us: int = 24 * HOUR_US
    timeline_us: int = 720 * HOUR_US
    side_file_bytes: int = 2 * 1024 ** 3

    def describe(self) -> str:
        return (f"media_step {self.media_step_us // HOUR_US}h, timeline {self.timeline_us // HOUR_US}h, "
                f"side_file_bytes {self.side_file_bytes}")


DEFAULT_LIMITS = Limits()
OVERRIDE_HINT = "raise it with 'limits: {media_step: ..., timeline: ..., side_file_bytes: ...}' in the scenario"
