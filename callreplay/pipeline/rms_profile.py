"""RMS over time for the report's plot, binned per second as frames arrive (bounded memory)."""

from __future__ import annotations

import numpy as np

from ..durations import US_PER_S


class RmsBins:
    """Per-second RMS sums, maxima and frame counts, kept as frames arrive (memory grows per second, not per frame)."""

    def __init__(self) -> None:
        self.t0: int | None = None
        self.sums = np.zeros(0)
        self.maxes = np.zeros(0)
        self.counts = np.zeros(0, dtype=np.int64)
        self.forwarded = np.zeros(0, dtype=np.int64)

    def _grow(self, n: int) -> None:
        if n > len(self.sums):
            extra = max(n, 2 * len(self.sums)) - len(self.sums)
            self.sums = np.concatenate((self.sums, np.zeros(extra)))
            self.maxes = np.concatenate((self.maxes, np.zeros(extra)))
            self.counts = np.concatenate((self.counts, np.zeros(extra, dtype=np.int64)))
            self.forwarded = np.concatenate((self.forwarded, np.zeros(extra, dtype=np.int64)))

    def _bin(self, t_us: np.ndarray) -> tuple[int, np.ndarray]:
        """(first bin, bin offsets from it) of these frame times; grows the arrays to hold them."""
        if self.t0 is None:
            self.t0 = int(t_us[0])
        bins = np.maximum((t_us - self.t0) // US_PER_S, 0)
        first = int(bins.min())
        self._grow(int(bins.max()) + 1)
        return first, bins - first

    def add(self, t_us: np.ndarray, rms: np.ndarray, *, all_forwarded: bool = False) -> None:
        """Frames received at ``t_us``; ``all_forwarded``: each reached the session as it arrived."""
        if len(t_us):
            first, rel = self._bin(t_us)
            counts = np.bincount(rel)
            end = first + len(counts)
            self.counts[first:end] += counts
            if all_forwarded:
                self.forwarded[first:end] += counts
            self.sums[first:end] += np.bincount(rel, weights=rms)
            if len(counts) == 1:
                self.maxes[first] = max(self.maxes[first], float(rms.max()))
            else:
                np.maximum.at(self.maxes, rel + first, rms)

    def add_forwarded(self, t_us: np.ndarray) -> None:
        if len(t_us):
            first, rel = self._bin(t_us)  # may grow the arrays: read them after
            counts = np.bincount(rel)
            self.forwarded[first:first + len(counts)] += counts

    def profile(self, max_points: int) -> dict:
        used = int(np.flatnonzero(self.counts | self.forwarded)[-1]) + 1 if self.counts.any() else 0
        if not used:
            return {"bin_us": 0, "t0_us": 0, "mean": [], "max": [], "forwarded": [], "frames": []}
        per = -(-used // max_points)
        n = -(-used // per)
        pad = n * per - used

        def fold(a, how):
            a = np.concatenate((a[:used], np.zeros(pad, dtype=a.dtype))).reshape(n, per)
            return how(a, axis=1)

        counts, sums = fold(self.counts, np.sum), fold(self.sums, np.sum)
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        return {"bin_us": int(per * US_PER_S), "t0_us": int(self.t0 or 0), "mean": [round(float(x), 1) for x in mean],
                "max": [int(x) for x in fold(self.maxes, np.max)],
                "forwarded": [int(x) for x in fold(self.forwarded, np.sum)], "frames": [int(x) for x in counts]}
