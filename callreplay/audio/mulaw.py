"""G.711 mu-law, vectorised: the codec Twilio Media Streams carry (8 kHz, 1 byte a sample).

``DECODE_TABLE`` follows the pipeline's own ``mulaw_to_pcm16_fast`` (spec 8.2 step 2), and
``frame_rms`` reproduces ``audioop.rms`` bit for bit, because the gate thresholds compare
integers and a replay must reach the same verdict on the same frame.
"""

from __future__ import annotations

import numpy as np

FRAME_BYTES = 160
"""One Twilio frame: 20 ms of 8 kHz mu-law."""

SILENCE_BYTE = 0xFF
"""The mu-law code for PCM zero."""

_BIAS = 0x84
_CLIP = 32635


def _build_decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (mantissa << (exponent + 3)) + (_BIAS << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


DECODE_TABLE = _build_decode_table()
DECODE_TABLE.flags.writeable = False

SQUARES = DECODE_TABLE.astype(np.int64) ** 2  # each code's decoded sample squared, for RMS sums
SQUARES.flags.writeable = False


def decode(mulaw: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """Decode mu-law bytes (any shape of uint8) to int16 PCM of the same shape."""
    if isinstance(mulaw, (bytes, bytearray, memoryview)):
        mulaw = np.frombuffer(mulaw, dtype=np.uint8)
    return DECODE_TABLE[np.asarray(mulaw, dtype=np.uint8)]


def _exponent_of(biased: np.ndarray) -> np.ndarray:
    """Position of the highest set bit among bits 7..14, minus 7 (0 for values below 256)."""
    exponent = np.zeros(biased.shape, dtype=np.int32)
    for bit in range(14, 7, -1):
        exponent = np.where((exponent == 0) & ((biased >> bit) != 0), bit - 7, exponent)
    return exponent


def encode(pcm16: np.ndarray) -> np.ndarray:
    """Encode int16 PCM to mu-law codes (standard G.711: bias 0x84, clip 32635)."""
    pcm = np.asarray(pcm16).astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(pcm), _CLIP) + _BIAS
    exponent = _exponent_of(magnitude)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def _rms_from_sums(sum_squares: np.ndarray, counts: np.ndarray | int) -> np.ndarray:
    # audioop: (unsigned int)sqrt((double)sum_squares / n); the sums stay below 2**53, so the
    # float64 conversion is exact and numpy's correctly rounded sqrt matches C's.
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.sqrt(sum_squares.astype(np.float64) / counts)
    return np.nan_to_num(values, nan=0.0).astype(np.int64)


_RMS_CHUNK = 8192


def frame_rms(frames: np.ndarray) -> np.ndarray:
    """``audioop.rms(decode(frame), 2)`` for every row of a uint8 (N, 160) array."""
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim != 2:
        raise ValueError(f"frames must be 2-D (N, samples), got shape {frames.shape}")
    out = np.empty(len(frames), dtype=np.int64)
    width = frames.shape[1]
    if width == 0:
        out[:] = 0
        return out
    for start in range(0, len(frames), _RMS_CHUNK):  # bounded temporaries for long slices
        chunk = frames[start:start + _RMS_CHUNK]
        sums = SQUARES[chunk].sum(axis=1)
        out[start:start + len(chunk)] = _rms_from_sums(sums, width)
    return out


def payload_rms(payloads: tuple[bytes, ...] | list[bytes]) -> np.ndarray:
    """``audioop.rms`` for payloads of any length (an empty payload has rms 0)."""
    lengths = np.fromiter((len(p) for p in payloads), dtype=np.int64, count=len(payloads))
    if len(payloads) == 0:
        return np.zeros(0, dtype=np.int64)
    squares = SQUARES[np.frombuffer(b"".join(payloads), dtype=np.uint8)]
    sums = np.zeros(len(payloads), dtype=np.int64)
    nonempty = lengths > 0
    if squares.size:
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
        sums[nonempty] = np.add.reduceat(squares, starts)
    return _rms_from_sums(sums, np.maximum(lengths, 1))
