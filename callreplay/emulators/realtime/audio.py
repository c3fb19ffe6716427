"""Audio on the emulator's wire: decode what the caller sends, meter it per 20 ms, synthesise replies.

Input RMS is measured the way the in-process model measures Twilio frames (``audioop.rms`` of PCM16,
via :func:`callreplay.audio.mulaw.frame_rms` for mu-law) so one server-VAD threshold means the same
thing in both modes. Replies are the project's synthetic voiced signal (``sources.speech``), not silence.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ...audio import mulaw
from ...audio.sources import speech
from .catalogue import AudioFormat

FRAME_MS = 20
FRAME_US = FRAME_MS * 1_000


def _build_alaw_table() -> np.ndarray:
    """G.711 A-law code -> PCM16 (codes are stored with even bits inverted, 0x55)."""
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


ALAW_TABLE = _build_alaw_table()
ALAW_TABLE.flags.writeable = False
_ALAW_ORDER = np.argsort(ALAW_TABLE, kind="stable")
_ALAW_SORTED = ALAW_TABLE[_ALAW_ORDER].astype(np.int32)


def alaw_encode(pcm16: np.ndarray) -> np.ndarray:
    """Nearest A-law code for each sample (quantise to the decode table)."""
    pcm = np.asarray(pcm16, dtype=np.int32)
    idx = np.clip(np.searchsorted(_ALAW_SORTED, pcm), 1, len(_ALAW_SORTED) - 1)
    lower, upper = _ALAW_SORTED[idx - 1], _ALAW_SORTED[idx]
    idx = np.where(pcm - lower <= upper - pcm, idx - 1, idx)
    return _ALAW_ORDER[idx].astype(np.uint8)


def decode(data: bytes, fmt: AudioFormat) -> np.ndarray:
    """Raw wire bytes to int16 PCM at ``fmt.sample_rate`` (a trailing odd byte of PCM16 is ignored)."""
    if fmt.codec == "ulaw":
        return mulaw.decode(data)
    if fmt.codec == "alaw":
        return ALAW_TABLE[np.frombuffer(data, dtype=np.uint8)]
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)


def pcm_frame_rms(pcm: np.ndarray) -> np.ndarray:
    """``audioop.rms`` of every row of a 2-D PCM16 array: floor(sqrt(mean(x^2))), 0 for empty rows."""
    squares = np.asarray(pcm, dtype=np.int64) ** 2
    if squares.shape[1] == 0:
        return np.zeros(len(squares), dtype=np.int64)
    return np.sqrt(squares.sum(axis=1).astype(np.float64) / squares.shape[1]).astype(np.int64)


def pcm_rms(pcm: np.ndarray) -> int:
    """``audioop.rms`` of PCM16 samples, 0 for no samples."""
    return int(pcm_frame_rms(np.asarray(pcm).reshape(1, -1))[0])


def summary(data: bytes, fmt: AudioFormat | None) -> dict:
    """What the trace keeps of an audio payload instead of its base64: size, digest, loudness."""
    rms = pcm_rms(decode(data, fmt)) if fmt is not None else None
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "rms": rms}


class InputMeter:
    """Cuts a stream of caller audio, in chunks of any size, into 20 ms frames with their RMS.

    A frame's time is its start on the session's audio timeline (0 at the first byte received), which
    is what ``audio_start_ms`` / ``audio_end_ms`` count in.
    """

    def __init__(self, fmt: AudioFormat) -> None:
        self.fmt = fmt
        self.frame_bytes = fmt.bytes_for_ms(FRAME_MS)
        self._pending = b""
        self.frames = 0
        self.total_bytes = 0

    def feed(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        """Times (us) and RMS of the frames this chunk completes."""
        self.total_bytes += len(data)
        buf = self._pending + data
        n = len(buf) // self.frame_bytes
        self._pending = buf[n * self.frame_bytes:]
        times = (np.arange(n, dtype=np.int64) + self.frames) * FRAME_US
        self.frames += n
        if n == 0:
            return times, np.zeros(0, dtype=np.int64)
        body = buf[:n * self.frame_bytes]
        if self.fmt.codec == "ulaw":
            rms = mulaw.frame_rms(np.frombuffer(body, dtype=np.uint8).reshape(n, self.frame_bytes))
        else:
            rms = pcm_frame_rms(decode(body, self.fmt).reshape(n, -1))
        return times, rms

    def continued(self, fmt: AudioFormat) -> InputMeter:
        """A meter for a new input format that goes on with this one's audio timeline (frame count)."""
        meter = InputMeter(fmt)
        meter.frames = self.frames
        return meter

    @property
    def received_ms(self) -> float:
        return self.total_bytes * 1000 / self.fmt.bytes_per_second


def synthesize(fmt: AudioFormat, duration_us: int, rms: float, seed: int) -> bytes:
    """A voiced reply of ``duration_us`` in ``fmt``: ``speech()`` at 8 kHz, resampled and re-encoded."""
    frames = speech(duration_us, rms, seed)
    codes = np.ascontiguousarray(frames).reshape(-1)
    n_out = fmt.bytes_for_ms(duration_us / 1000) // fmt.bytes_per_sample
    if fmt.codec == "ulaw" and fmt.sample_rate == 8_000:
        return codes[:n_out].tobytes()
    pcm8k = mulaw.decode(codes).astype(np.float64)
    if fmt.sample_rate == 8_000:
        pcm = pcm8k
    else:
        src_t = np.arange(len(pcm8k)) / 8_000
        dst_t = np.arange(int(len(pcm8k) * fmt.sample_rate / 8_000)) / fmt.sample_rate
        pcm = np.interp(dst_t, src_t, pcm8k)
    pcm16 = np.clip(np.round(pcm), -32768, 32767).astype(np.int16)[:n_out]
    if fmt.codec == "alaw":
        return alaw_encode(pcm16).tobytes()
    if fmt.codec == "ulaw":
        return mulaw.encode(pcm16).tobytes()
    return pcm16.astype("<i2").tobytes()
