"""Seeded network faults on a ``FrameBatch`` whose times and sequence numbers are assigned.

Applied in a fixed order (gap, stall, drop, duplicate, reorder, jitter) so one spec and one seed always
give the same stream. ``gap.at`` and ``stall.at`` are measured from the batch's first arrival.
"""

from __future__ import annotations

import numpy as np

from ..durations import parse_duration
from .frames import FrameBatch

FAULT_KEYS = ("drop", "duplicate", "reorder", "jitter", "gap", "stall")


def _fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"fault {name!r} must be a fraction between 0 and 1, got {value!r}")
    return float(value)


def _how_many(name: str, value: object, n: int) -> int:
    """An int is a count of frames; a float is a fraction of them."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"fault {name!r} count must not be negative, got {value}")
        return min(value, n)
    return round(_fraction(name, value) * n)


def _window(name: str, spec: object) -> tuple[int, int]:
    """``at`` and ``duration`` of a gap or a stall, in microseconds."""
    if not isinstance(spec, dict) or set(spec) - {"at", "at_us", "duration", "duration_us"}:
        raise ValueError(f"fault {name!r} must be a mapping with 'at' and 'duration', got {spec!r}")
    try:
        return (parse_duration(spec.get("at", spec.get("at_us"))),
                parse_duration(spec.get("duration", spec.get("duration_us"))))
    except ValueError as error:
        raise ValueError(f"fault {name!r}: {error}") from None


def _gap(batch: FrameBatch, spec: object) -> FrameBatch:
    """The network stalls for ``duration`` at ``at`` (from the first frame): later frames arrive that much
    later and none is lost (the socket is TCP); combine with ``drop`` to lose frames too."""
    at, length = _window("gap", spec)
    if not len(batch):
        return batch
    begin = int(batch.arrival_us.min()) + at
    shifted = batch.arrival_us.copy()
    shifted[batch.arrival_us >= begin] += length
    return batch.with_arrival(shifted)


def _stall(batch: FrameBatch, spec: object) -> FrameBatch:
    """Frames due while the path is stalled (``duration`` from ``at``) are held, then delivered at once when it
    ends, in order; frames after it arrive on time. Unlike ``gap``, the stream catches up with a burst."""
    at, length = _window("stall", spec)
    if not len(batch):
        return batch
    begin = int(batch.arrival_us.min()) + at
    end = begin + length
    held = (batch.arrival_us >= begin) & (batch.arrival_us < end)
    if not held.any():
        return batch
    arrival = batch.arrival_us.copy()
    arrival[held] = end
    return batch.with_arrival(arrival)


def _drop(batch: FrameBatch, value: object, rng: np.random.Generator) -> FrameBatch:
    n = _how_many("drop", value, len(batch))
    lost = rng.choice(len(batch), size=n, replace=False)
    return batch.take(np.setdiff1d(np.arange(len(batch)), lost))


def _duplicate(batch: FrameBatch, value: object, rng: np.random.Generator) -> FrameBatch:
    """A duplicated frame is sent again right after itself, same sequenceNumber and time."""
    n = round(_fraction("duplicate", value) * len(batch))
    twice = np.zeros(len(batch), dtype=np.int64)
    twice[rng.choice(len(batch), size=n, replace=False)] = 1
    return batch.take(np.repeat(np.arange(len(batch)), 1 + twice))


def _reorder(batch: FrameBatch, value: object, rng: np.random.Generator) -> FrameBatch:
    """Swap the contents of disjoint adjacent pairs; arrival times stay in place."""
    pairs = len(batch) // 2
    n = round(_fraction("reorder", value) * pairs)
    firsts: np.ndarray | list[int] = 2 * rng.choice(pairs, size=n, replace=False) + rng.integers(0, 2) if pairs else []
    order = np.arange(len(batch))
    for i in np.sort(np.asarray(firsts, dtype=np.int64)):
        if i + 1 < len(batch):
            order[i], order[i + 1] = order[i + 1], order[i]
    return batch.take(order).with_arrival(batch.arrival_us)


def _jitter(batch: FrameBatch, value: object, rng: np.random.Generator) -> FrameBatch:
    """Move each arrival by up to +-jitter, then deliver in arrival order (stable)."""
    try:
        amount = parse_duration(value)
    except ValueError as error:
        raise ValueError(f"fault 'jitter': {error}") from None
    moved = np.maximum(batch.arrival_us + rng.integers(-amount, amount + 1, size=len(batch)), 0)
    order = np.argsort(moved, kind="stable")
    return batch.take(order).with_arrival(moved[order])


def apply_faults(batch: FrameBatch, spec: dict, seed: int) -> FrameBatch:
    """The batch as the faults in ``spec`` would deliver it; the same seed, the same result."""
    if not isinstance(spec, dict):
        raise ValueError(f"faults must be a mapping, got {type(spec).__name__}")  # noqa: TRY004 (the engine maps ValueError to a scenario error)
    unknown = sorted(set(spec) - set(FAULT_KEYS))
    if unknown:
        raise ValueError(f"unknown fault {unknown[0]!r} (valid: {', '.join(FAULT_KEYS)})")
    rng = np.random.default_rng(seed)
    if "gap" in spec:
        batch = _gap(batch, spec["gap"])
    if "stall" in spec:
        batch = _stall(batch, spec["stall"])
    if "drop" in spec:
        batch = _drop(batch, spec["drop"], rng)
    if "duplicate" in spec:
        batch = _duplicate(batch, spec["duplicate"], rng)
    if "reorder" in spec:
        batch = _reorder(batch, spec["reorder"], rng)
    if "jitter" in spec:
        batch = _jitter(batch, spec["jitter"], rng)
    return batch
