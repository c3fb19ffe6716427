"""Throughput of the audio path (spec 8.2-8.3): prints frames/s and peak memory.

Not collected by pytest. Run: ``python benchmarks/bench_audio_path.py``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's callreplay, not an installed one

import numpy as np

from callreplay.audio import AudioConfig, FastAudioPath, FrameBatch, ReferenceAudioPath
from callreplay.audio.sources import silence, speech

FRAMES = 360_000
SLICE = 500  # 10 s of audio per process() call
REFERENCE_FRAMES = 20_000


def _stream(n: int) -> FrameBatch:
    """Alternating 2 s of speech and 1 s of silence."""
    talk, quiet = speech(2_000_000, 1500, seed=1), silence(1_000_000)
    unit = np.vstack([talk, quiet])
    return FrameBatch.paced(np.tile(unit, (n // len(unit) + 1, 1))[:n])


def _config(simple: bool) -> AudioConfig:
    return AudioConfig(simple_mode=simple, max_audio_frames_per_call=10**9,
                       max_realtime_seconds_per_call=10**6)


def _run(cls, batch: FrameBatch, simple: bool, slice_frames: int) -> tuple[float, int]:
    path = cls(_config(simple))
    path.on_sender_started(0)
    start = time.perf_counter()
    for i, a in enumerate(range(0, len(batch), slice_frames)):
        if not simple and i % 3 == 0:  # the AI talks now and then, so the echo gate has work
            path.on_ai_speaking(int(batch.arrival_us[a]), i % 6 == 0)
        path.process(batch, a, a + slice_frames)
    return time.perf_counter() - start, path.counters["stats_audio_sent"]


def main() -> None:
    batch = _stream(FRAMES)
    start = time.perf_counter()
    batch.rms()
    rms_s = time.perf_counter() - start
    print(f"decode+rms (cached per batch): {FRAMES / rms_s:,.0f} frames/s")
    for simple in (True, False):
        for slice_frames in (SLICE, FRAMES):
            seconds, sent = min(_run(FastAudioPath, batch, simple, slice_frames) for _ in range(3))
            tracemalloc.start()  # a separate run: tracing allocations slows numpy down a lot
            _run(FastAudioPath, batch, simple, slice_frames)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"fast simple_mode={simple!s:5} slice={slice_frames:>6}: {FRAMES / seconds:,.0f} frames/s "
                  f"(gate+queue+sender), sent={sent}, peak={peak / 1e6:.2f} MB")
    small = FrameBatch.paced(batch.payload[:REFERENCE_FRAMES])
    small.rms()
    for simple in (True, False):
        ref_s, _ = _run(ReferenceAudioPath, small, simple, SLICE)
        fast_s, _ = _run(FastAudioPath, small, simple, SLICE)
        print(f"reference simple_mode={simple!s:5}: {REFERENCE_FRAMES / ref_s:,.0f} frames/s; "
              f"fast/reference = {ref_s / fast_s:.1f}x")


if __name__ == "__main__":
    main()
