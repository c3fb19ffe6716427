"""Digital silence made a real line's: a few least-significant bits flipped, different on every call.

A phone line is never bit-exact silence, and live mode needs every frame it sends to be
recognisable: the realtime emulator learns which call a model session serves from the caller audio
it receives. Frames of one repeated byte get four LSBs flipped at positions derived from the CallSid
and the frame's index (about -70 dBFS: every gate still reads it as silence); speech and recorded
frames are sent as they are.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..audio.frames import FrameBatch
from ..audio.sources import silence

FLIPS = 4


def with_line_noise(batch: FrameBatch, call: str, first_index: int = 0) -> FrameBatch:
    if batch.payload is None or not len(batch):
        return batch
    payload = batch.payload.copy()
    silent = np.flatnonzero((payload == payload[:, :1]).all(axis=1))
    if not len(silent):
        return batch
    seed = np.frombuffer(hashlib.blake2b(call.encode(), digest_size=8).digest(), dtype=np.uint64)[0]
    index = (silent + first_index).astype(np.uint64)
    for k in range(FLIPS):
        mixed = (index * np.uint64(2654435761) + seed + np.uint64(k * 40503)) * np.uint64(0x9E3779B97F4A7C15)
        positions = ((mixed >> np.uint64(33)) % np.uint64(payload.shape[1])).astype(np.int64)
        payload[silent, positions] ^= 0x01
    return FrameBatch(payload, batch.arrival_us, batch.seq, batch.chunk, batch.timestamp_ms, b64=None)


def open_line(call: str, start_us: int, until_us: int) -> FrameBatch:
    """Twilio streams the callee's line from the stream's start even when nobody speaks."""
    frames = silence(max(until_us - start_us, 0))
    return with_line_noise(FrameBatch.paced(frames, start_us=start_us), call)
