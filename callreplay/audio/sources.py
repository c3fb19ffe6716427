"""Audio sources a scenario names, expanded to 8 kHz mu-law frames of 160 bytes (20 ms).

Each returns a uint8 (N, 160) array; the engine gives the frames their times and sequence
numbers. Recorded payloads come back as ``Payloads`` so the original base64 survives.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..scenario.limits import DEFAULT_LIMITS
from .mulaw import FRAME_BYTES, SILENCE_BYTE, encode
from .wav import TARGET_RATE, read_wav, resample_to_8k

FRAME_US = 20_000


def frame_count(duration_us: int) -> int:
    """Frames covering ``duration_us`` (a partial last frame counts as a frame)."""
    if duration_us < 0:
        raise ValueError(f"duration must not be negative, got {duration_us}us")
    return -(-int(duration_us) // FRAME_US)


def frames_from_pcm(pcm16: np.ndarray) -> np.ndarray:
    """Encode 8 kHz PCM16 and cut into frames, padding the last one with mu-law silence."""
    return frames_from_mulaw(encode(pcm16))


def frames_from_mulaw(codes: np.ndarray) -> np.ndarray:
    n = -(-len(codes) // FRAME_BYTES)
    out = np.full(n * FRAME_BYTES, SILENCE_BYTE, dtype=np.uint8)
    out[:len(codes)] = codes
    return out.reshape(n, FRAME_BYTES)


def _read_only(make):
    """Memoise a pure frame generator (same arguments, same frames); callers get a read-only array."""
    @functools.lru_cache(maxsize=32)
    def cached(*args, **kwargs):
        frames = make(*args, **kwargs)
        frames.flags.writeable = False
        return frames

    cached.__doc__ = make.__doc__
    return functools.wraps(make)(cached)


@_read_only
def silence(duration_us: int) -> np.ndarray:
    return np.full((frame_count(duration_us), FRAME_BYTES), SILENCE_BYTE, dtype=np.uint8)


def _scale_to_rms(signal: np.ndarray, rms: float) -> np.ndarray:
    current = float(np.sqrt(np.mean(signal ** 2))) if len(signal) else 0.0
    scaled = signal * (rms / current) if current > 0 else signal
    return np.clip(np.round(scaled), -32768, 32767).astype(np.int16)


@_read_only
def tone(hz: float, rms: float, duration_us: int) -> np.ndarray:
    """A sine of ``hz`` whose RMS is ``rms`` in PCM16 units."""
    if not 0 < hz < TARGET_RATE / 2:
        raise ValueError(f"tone frequency must be between 0 and 4000 Hz, got {hz}")
    n = frame_count(duration_us) * FRAME_BYTES
    signal = np.sin(2 * np.pi * hz * np.arange(n) / TARGET_RATE) * rms * np.sqrt(2)
    return frames_from_pcm(np.clip(np.round(signal), -32768, 32767).astype(np.int16))


@_read_only
def speech(duration_us: int, rms: float, seed: int) -> np.ndarray:
    """Synthetic voiced speech: a drifting 120-220 Hz glottal-pulse train under a ~4 Hz
    syllable envelope that never falls below half its peak, so per-frame RMS stays high."""
    rng = np.random.default_rng(seed)
    n = frame_count(duration_us) * FRAME_BYTES
    seconds = np.arange(n) / TARGET_RATE
    f0_base = rng.uniform(120, 220)
    f0 = f0_base * (1 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * seconds + rng.uniform(0, 6.3)))
    phase = 2 * np.pi * np.cumsum(f0) / TARGET_RATE
    harmonics = min(20, int(3400 // (f0_base * 1.1)))
    signal = np.zeros(n)
    for k in range(1, harmonics + 1):  # 1/k spectrum, like a glottal source
        signal += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k
    syllable_hz = rng.uniform(3.5, 4.5)
    envelope = 0.75 + 0.25 * np.sin(2 * np.pi * syllable_hz * seconds + rng.uniform(0, 6.3))
    return frames_from_pcm(_scale_to_rms(signal * envelope, rms))


def _zcr_checked(zcr: float) -> float:
    if not 0 < zcr < 1:
        raise ValueError(f"zcr must be a fraction of samples between 0 and 1 (exclusive), got {zcr}")
    return float(zcr)


@_read_only
def noise(duration_us: int, rms: float, zcr: float, seed: int) -> np.ndarray:
    """Gaussian noise whose zero-crossing rate (sign changes per sample pair) is ``zcr`` and RMS is ``rms``.

    A first-order autoregression ``x[n] = a x[n-1] + e[n]`` has lag-1 correlation ``a``, and a Gaussian
    signal with lag-1 correlation ``a`` crosses zero at ``arccos(a) / pi`` of its samples, so
    ``a = cos(pi zcr)``: 0.5 is white noise (hiss), 0.05 a low rumble, 0.9 a high whistle-like hiss.
    """
    a = float(np.cos(np.pi * _zcr_checked(zcr)))
    n = frame_count(duration_us) * FRAME_BYTES
    signal = np.random.default_rng(seed).standard_normal(n)
    if abs(a) > 1e-3:  # below that the filter changes the rate by less than 0.001: white noise as it is
        # x[k] = a x[k-1] + e[k] in blocks: x[k] = a^(k+1) (x_before + cumsum(e[j] / a^(j+1))); a block is short
        # enough that a^-(block) stays far from overflow (at most 1e100)
        block = int(max(1, min(4096, 230 / -np.log(abs(a)))))
        state = 0.0
        for start in range(0, n, block):
            part = signal[start:start + block]
            powers = a ** np.arange(1, len(part) + 1)
            part[:] = (np.cumsum(part / powers) + state) * powers
            state = float(part[-1])
    return frames_from_pcm(_scale_to_rms(signal, rms))


MUSIC_NOTE_US = 250_000
PENTATONIC = (1.0, 9 / 8, 5 / 4, 3 / 2, 5 / 3, 2.0)


@_read_only
def music(duration_us: int, rms: float, zcr: float, seed: int) -> np.ndarray:
    """Hold music: a seeded melody of 250 ms notes (a pentatonic scale, two harmonics) at ``rms``.

    The melody's pitch is set so that the signal crosses zero at about ``zcr`` of its samples; unlike speech it
    has no syllable rhythm and no pauses, which is what fools energy gates.
    """
    # a sine crosses zero 2 f / 8000 times a sample; the scale's notes average 1.2 times the lowest one and
    # the second harmonic adds about 35% more crossings: measured, 1.62 in all
    base_hz = _zcr_checked(zcr) * TARGET_RATE / 2 / 1.62
    if not 20 <= base_hz <= 1600:
        raise ValueError(f"music zcr {zcr} puts the melody at {base_hz:.0f} Hz; use 0.01 to 0.6")
    rng = np.random.default_rng(seed)
    n = frame_count(duration_us) * FRAME_BYTES
    per_note = MUSIC_NOTE_US * TARGET_RATE // 1_000_000
    notes = rng.choice(PENTATONIC, size=max(1, -(-n // per_note)))
    hz = np.repeat(notes * base_hz, per_note)[:n]
    phase = 2 * np.pi * np.cumsum(hz) / TARGET_RATE
    return frames_from_pcm(_scale_to_rms(np.sin(phase) + 0.3 * np.sin(2 * phase), rms))


def wav_file(path: str | Path, *, folder: str | Path | None = None,
             max_bytes: int = DEFAULT_LIMITS.side_file_bytes) -> np.ndarray:
    """A WAV file (PCM16 or mu-law, any rate, mono or stereo) as 8 kHz mu-law frames (opened safely in ``folder``)."""
    audio = read_wav(path, folder=folder, max_bytes=max_bytes)
    if audio.mulaw is not None and audio.rate == TARGET_RATE:
        return frames_from_mulaw(audio.mulaw)  # already Twilio's format: keep the bytes
    return frames_from_pcm(resample_to_8k(audio.pcm16, audio.rate))


@dataclass(frozen=True, slots=True)
class Payloads:
    """Recorded ``media.payload`` strings and their bytes; ``frames`` when all are 160 bytes."""

    b64: tuple[str, ...]
    raw: tuple[bytes, ...]
    frames: np.ndarray | None


def payloads(encoded: Sequence[str]) -> Payloads:
    """Decode recorded base64 payloads, keeping the originals byte for byte."""
    raw = []
    for position, text in enumerate(encoded):
        if not isinstance(text, str):
            raise ValueError(f"payload #{position} is {type(text).__name__}, expected a base64 string")  # noqa: TRY004 (scenario data error)
        try:
            raw.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError(f"payload #{position} is not valid base64: {text[:40]!r}") from None
    frames = None
    if all(len(p) == FRAME_BYTES for p in raw):
        frames = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), FRAME_BYTES).copy()
    return Payloads(tuple(encoded), tuple(raw), frames)
