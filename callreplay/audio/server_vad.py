"""A small model of the Realtime session's server VAD, over the frames the session receives.

Speech starts at the frame completing ``start_frames`` consecutive loud frames; it stops at the
frame where a run of quiet frames has covered ``silence_ms`` (each frame covers 20 ms, so 35
quiet frames make 700 ms). Enough to drive barge-in in a replay; not a model of OpenAI's VAD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_US = 20_000


@dataclass(slots=True)
class _VadState:
    speaking: bool = False
    loud_run: int = 0
    quiet_since_us: int | None = None  # start of the current quiet run while speaking


class ServerVad:
    """Streaming ``speech_started`` / ``speech_stopped`` events; state survives across ``feed``."""

    def __init__(self, threshold_rms: float = 200, start_frames: int = 3, silence_ms: int = 700) -> None:
        self.threshold_rms = threshold_rms
        self.start_frames = start_frames
        self.silence_us = silence_ms * 1_000
        self._s = _VadState()

    @property
    def speaking(self) -> bool:
        return self._s.speaking

    def checkpoint(self) -> _VadState:
        s = self._s
        return _VadState(s.speaking, s.loud_run, s.quiet_since_us)

    def rollback(self, token: _VadState) -> None:
        self._s = _VadState(token.speaking, token.loud_run, token.quiet_since_us)

    def feed(self, t_us: np.ndarray, rms: np.ndarray) -> list[tuple[int, str]]:
        """Events in these frames; one Python step per loud/quiet run, not per frame."""
        t_us = np.asarray(t_us, dtype=np.int64)
        loud = np.asarray(rms) >= self.threshold_rms
        n = len(t_us)
        events: list[tuple[int, str]] = []
        if not n:
            return events
        edges = np.flatnonzero(loud[1:] != loud[:-1]) + 1
        starts = np.concatenate(([0], edges))
        ends = np.concatenate((edges, [n]))
        s = self._s
        for begin, end in zip(starts.tolist(), ends.tolist(), strict=True):
            is_loud = bool(loud[begin])
            pos = begin
            while pos < end:
                if not s.speaking:
                    if not is_loud:
                        s.loud_run = 0
                        break
                    need = self.start_frames - s.loud_run
                    if end - pos < need:
                        s.loud_run += end - pos
                        break
                    at = pos + need - 1
                    events.append((int(t_us[at]), "speech_started"))
                    s.speaking, s.loud_run, s.quiet_since_us = True, 0, None
                    pos = at + 1
                else:
                    if is_loud:
                        s.quiet_since_us = None
                        break
                    if s.quiet_since_us is None:
                        s.quiet_since_us = int(t_us[pos])
                    goal = s.quiet_since_us + self.silence_us - FRAME_US
                    at = pos + int(np.searchsorted(t_us[pos:end], goal, side="left"))
                    if at >= end:
                        break
                    events.append((int(t_us[at]), "speech_stopped"))
                    s.speaking, s.loud_run, s.quiet_since_us = False, 0, None
                    pos = at + 1
        return events
