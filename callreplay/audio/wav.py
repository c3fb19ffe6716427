"""Read WAV files into 8 kHz PCM: stdlib ``wave`` for PCM16, a small RIFF reader for mu-law.

``wave`` refuses format tag 7 (mu-law), which is exactly what Twilio recordings are saved as,
so that one case parses the ``fmt `` and ``data`` chunks itself.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..safe_open import open_side_file, read_side_file
from ..scenario.limits import DEFAULT_LIMITS
from .mulaw import decode

TARGET_RATE = 8000
WAVE_FORMAT_MULAW = 7


@dataclass(frozen=True, slots=True)
class WavAudio:
    """Decoded samples of a WAV file, mono; ``mulaw`` keeps the raw codes when that was the format."""

    pcm16: np.ndarray
    rate: int
    mulaw: np.ndarray | None = None


def _read_riff_mulaw(path: Path, folder: Path, max_bytes: int) -> WavAudio:
    data = read_side_file(path, folder, max_bytes=max_bytes)
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    fmt = body = None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        content = data[pos + 8:pos + 8 + size]
        if chunk_id == b"fmt ":
            fmt = content
        elif chunk_id == b"data":
            body = content
        pos += 8 + size + (size & 1)  # chunks are padded to even length
    if fmt is None or len(fmt) < 16:
        raise ValueError(f"{path}: WAV file has no valid 'fmt ' chunk")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag != WAVE_FORMAT_MULAW:
        raise ValueError(f"{path}: unsupported WAV format tag {tag} (supported: 1 = PCM 16-bit, "
                         f"7 = mu-law)")
    if body is None:
        raise ValueError(f"{path}: WAV file has no 'data' chunk")
    if channels < 1 or rate < 1 or bits != 8:
        raise ValueError(f"{path}: bad mu-law WAV header (channels={channels}, rate={rate}, bits={bits})")
    codes = np.frombuffer(body[:len(body) - len(body) % channels], dtype=np.uint8)
    if channels == 1:
        return WavAudio(decode(codes), rate, codes)
    return WavAudio(_mix(decode(codes), channels), rate)


def _mix(samples: np.ndarray, channels: int) -> np.ndarray:
    frames = samples.reshape(-1, channels).astype(np.int64)
    return np.round(frames.mean(axis=1)).astype(np.int16)


def read_wav(path: str | Path, *, folder: str | Path | None = None,
             max_bytes: int = DEFAULT_LIMITS.side_file_bytes) -> WavAudio:
    """Mono samples and rate of a PCM16 or mu-law WAV; ValueError says why a file is refused.

    The file is opened through :func:`callreplay.safe_open.open_side_file` (inside ``folder``, the
    scenario's folder when the caller knows it, else the file's own; no symlink, regular file, size checked).
    """
    path = Path(path)
    folder = Path(folder) if folder is not None else path.parent
    try:
        with open_side_file(path, folder, max_bytes=max_bytes) as fh, wave.open(fh, "rb") as reader:
            width, channels, rate = reader.getsampwidth(), reader.getnchannels(), reader.getframerate()
            raw = reader.readframes(reader.getnframes())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (wave.Error, EOFError) as error:
        if "unknown format" in str(error):
            return _read_riff_mulaw(path, folder, max_bytes)
        raise ValueError(f"{path}: unreadable WAV file ({error})") from None
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit PCM is not supported (use 16-bit PCM or mu-law)")
    samples = np.frombuffer(raw[:len(raw) - len(raw) % (2 * channels)], dtype="<i2")
    return WavAudio(_mix(samples, channels) if channels > 1 else samples.astype(np.int16), rate)


def _lowpass(samples: np.ndarray, rate: int, cutoff_hz: float, taps: int = 63) -> np.ndarray:
    """Windowed-sinc FIR low-pass, zero phase ('same' convolution)."""
    n = np.arange(taps) - (taps - 1) / 2
    kernel = np.sinc(2 * cutoff_hz / rate * n) * np.hamming(taps)
    kernel /= kernel.sum()
    return np.convolve(samples, kernel, mode="same")


def resample_to_8k(pcm16: np.ndarray, rate: int) -> np.ndarray:
    """Anti-alias low-pass (when downsampling), then linear interpolation onto the 8 kHz grid."""
    if rate == TARGET_RATE:
        return pcm16.astype(np.int16)
    signal = pcm16.astype(np.float64)
    if rate > TARGET_RATE:
        signal = _lowpass(signal, rate, cutoff_hz=0.45 * TARGET_RATE)
    n_out = round(len(signal) * TARGET_RATE / rate)
    positions = np.arange(n_out) * (rate / TARGET_RATE)
    out = np.interp(positions, np.arange(len(signal)), signal) if len(signal) else np.zeros(n_out)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)
