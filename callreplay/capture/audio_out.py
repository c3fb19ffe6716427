"""Caller audio on its way into a scenario: kept, reduced to its RMS envelope, and written as WAV.

Why an envelope: the pipeline's gates (noise gate, echo gate, VAD calibration) look at each 20 ms
frame's ``audioop.rms`` and nothing else, so a synthetic frame with the same RMS drives them to
the same decisions while carrying none of the caller's words. Each output frame is one fixed
waveform (a 400 Hz sine, 20 samples a period) scaled to the input frame's RMS, its zero crossings then filled so that
:func:`callreplay.audio.mulaw.frame_rms` of the output equals the input's (``RMS_TOLERANCE`` is the
guarantee the tests pin; in practice the match is exact up to full scale).
The result depends only on the target RMS, so it is memoised: a 2-hour call costs a few hundred
distinct targets, not 360 000 searches.

WAV files are mu-law, 8 kHz, mono (format tag 7), the format Twilio sends and
:func:`callreplay.audio.sources.wav_file` reads back byte for byte. :class:`MulawWavWriter` streams
frames to disk and patches the sizes on close, so a long run never sits in memory.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio.mulaw import DECODE_TABLE, FRAME_BYTES, SILENCE_BYTE, encode, frame_rms

RMS_TOLERANCE = 2
_BASE = np.sin(2 * np.pi * np.arange(FRAME_BYTES) / 20.0)
_SQ = DECODE_TABLE.astype(np.int64) ** 2


def _rms_of(codes: np.ndarray) -> int:
    return int(frame_rms(codes.reshape(1, -1))[0])


_ZEROS = np.flatnonzero(np.round(_BASE * 1e6) == 0)  # the 16 zero crossings carry the fine adjustment
_POSITIVE_CODES = np.arange(0xFF, 0x7F, -1)  # 0xFF is zero; smaller codes are louder
_POSITIVE_VALUES = DECODE_TABLE[_POSITIVE_CODES].astype(np.int64)
MAX_RMS = int(_POSITIVE_VALUES.max())


def _sum_squares(codes: np.ndarray) -> int:
    return int(_SQ[codes].sum())


@lru_cache(maxsize=65536)
def envelope_frame(target_rms: int) -> bytes:
    """160 mu-law bytes of the fixed waveform whose frame RMS equals ``target_rms`` (capped at full scale).

    Bisection finds the loudest scaling whose RMS does not exceed the target; the zero crossings,
    silent in the plain sine, are then filled greedily (largest mu-law value that still fits) until
    the sum of squares sits in the middle of the target's interval ``[160 r^2, 160 (r+1)^2)``.
    """
    target = min(int(target_rms), MAX_RMS)
    if target <= 0:
        return bytes([SILENCE_BYTE]) * FRAME_BYTES
    lo, hi = 0.0, 32768.0 * 4
    best = encode(np.zeros(FRAME_BYTES))
    for _ in range(32):
        mid = (lo + hi) / 2
        codes = encode(np.clip(np.round(_BASE * mid), -32768, 32767))
        if _rms_of(codes) <= target:
            lo, best = mid, codes
        else:
            hi = mid
    codes = best.copy()
    goal = FRAME_BYTES * (target + 0.5) ** 2
    total = _sum_squares(codes)
    for index in _ZEROS:
        gap = goal - total
        if gap < 64:
            break
        fits = np.flatnonzero(_POSITIVE_VALUES ** 2 <= gap)
        pick = int(fits[-1])
        codes[index] = _POSITIVE_CODES[pick]
        total += int(_POSITIVE_VALUES[pick]) ** 2
    return bytes(codes.astype(np.uint8))


def envelope(frames: np.ndarray) -> np.ndarray:
    """Replace every row of a uint8 (N, 160) array by its RMS-matched synthetic frame."""
    frames = np.asarray(frames, dtype=np.uint8)
    if len(frames) == 0:
        return frames.copy()
    targets = frame_rms(frames)
    out = np.empty_like(frames)
    for value in np.unique(targets):
        out[targets == value] = np.frombuffer(envelope_frame(int(value)), dtype=np.uint8)
    return out


class MulawWavWriter:
    """Streams mu-law bytes into a WAV file (format tag 7, 8 kHz mono); sizes are patched on close."""

    HEADER_BYTES = 58

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("wb")
        self._file.write(self._header(0))
        self.frames = 0
        self.data_bytes = 0

    @staticmethod
    def _header(data_bytes: int) -> bytes:
        fmt = struct.pack("<HHIIHHH", 7, 1, 8000, 8000, 1, 8, 0)  # tag, channels, rate, byte rate, align, bits, cb
        fact = struct.pack("<I", data_bytes)
        riff_size = 4 + (8 + len(fmt)) + (8 + len(fact)) + (8 + data_bytes + (data_bytes & 1))
        return (b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
                + b"fact" + struct.pack("<I", len(fact)) + fact + b"data" + struct.pack("<I", data_bytes))

    def write(self, payload: bytes) -> None:
        self._file.write(payload)
        self.data_bytes += len(payload)
        self.frames += 1

    def close(self) -> None:
        if self._file.closed:
            return
        if self.data_bytes & 1:
            self._file.write(b"\x00")
        self._file.seek(0)
        self._file.write(self._header(self.data_bytes))
        self._file.close()
