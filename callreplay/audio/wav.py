"""Read audio files into 8 kHz-ready PCM through ``soundfile`` (libsndfile, shipped inside its wheels).

Every format libsndfile decodes is accepted: WAV (PCM 8/16/24/32-bit, float32/64, mu-law, A-law),
WAVE_FORMAT_EXTENSIBLE as ffmpeg and sox write it, FLAC, AIFF, Ogg and more, the same on every
Python version (stdlib ``wave`` reads PCM only, and EXTENSIBLE only from 3.12). Mu-law WAVs, what
Twilio recordings are saved as, keep their raw codes so an 8 kHz mono recording replays byte for
byte; their ``data`` chunk is read directly because libsndfile hands out decoded samples only.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile  # type: ignore[import-untyped]  # no stubs published

from ..safe_open import open_side_file, read_side_file
from ..scenario.limits import DEFAULT_LIMITS
from .mulaw import decode

TARGET_RATE = 8000
WAVE_FORMAT_MULAW = 7
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_INTEGER_SUBTYPES = frozenset({"PCM_16", "PCM_S8", "PCM_U8"})  # read as int16 exactly; the rest via float


@dataclass(frozen=True, slots=True)
class WavAudio:
    """Decoded samples of an audio file, mono; ``mulaw`` keeps the raw codes when that was the format."""

    pcm16: np.ndarray
    rate: int
    mulaw: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """What an audio file's header says, as libsndfile reads it (``validate`` reports this)."""

    container: str      # WAV, WAVEX, FLAC, ...
    subtype: str        # PCM_16, PCM_24, FLOAT, ULAW, ...
    channels: int
    rate: int
    frames: int

    def describe(self) -> str:
        return f"{self.container} {self.subtype}, {self.channels} ch, {self.rate} Hz, {self.frames} frames"


def audio_format(path: str | Path, *, folder: str | Path | None = None,
                 max_bytes: int = DEFAULT_LIMITS.side_file_bytes) -> AudioFormat:
    """The file's format; ValueError says why a file is refused (missing, unsafe, unreadable, empty header).

    The file is opened through :func:`callreplay.safe_open.open_side_file` (inside ``folder``, else the
    file's own; no symlink, a regular file, its size checked) and libsndfile reads that open file."""
    path = Path(path)
    try:
        with open_side_file(path, _folder_of(path, folder), max_bytes=max_bytes) as fh:
            return _format_of(path, fh)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None


def _folder_of(path: Path, folder: str | Path | None) -> Path:
    """The folder a side file must stay inside: the one given, else the file's own."""
    return Path(folder) if folder is not None else path.parent


def _format_of(path: Path, source: BinaryIO) -> AudioFormat:
    """The header libsndfile reads from ``source``; ValueError when it cannot or the header is empty."""
    try:
        info = soundfile.info(source)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise ValueError(f"{path}: unreadable audio file ({_reason(error)})") from None
    if info.channels < 1 or info.samplerate < 1:
        raise ValueError(f"{path}: bad audio header (channels={info.channels}, rate={info.samplerate})")
    return AudioFormat(info.format, info.subtype, info.channels, info.samplerate, info.frames)


def _reason(error: Exception) -> str:
    text = str(getattr(error, "error_string", "") or error)
    return text.split(": ", 1)[-1].strip().rstrip(".") if "Error opening" in text else text.strip().rstrip(".")


def _riff_mulaw_codes(data: bytes) -> np.ndarray | None:
    """The raw ``data`` bytes of a mu-law WAV (plain or EXTENSIBLE), or None if the file is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
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
    if fmt is None or body is None or len(fmt) < 16:
        return None
    tag = struct.unpack("<H", fmt[:2])[0]
    if tag == WAVE_FORMAT_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # the SubFormat GUID starts with the format tag
    return np.frombuffer(body, dtype=np.uint8) if tag == WAVE_FORMAT_MULAW else None


def _mix(samples: np.ndarray, channels: int) -> np.ndarray:
    frames = samples.reshape(-1, channels).astype(np.int64)
    return np.round(frames.mean(axis=1)).astype(np.int16)


def _to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) to int16, rounded and clipped (24/32-bit PCM and float files)."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def read_wav(path: str | Path, *, folder: str | Path | None = None,
             max_bytes: int = DEFAULT_LIMITS.side_file_bytes) -> WavAudio:
    """Mono samples and rate of any audio file libsndfile reads; ValueError says why a file is refused.

    The bytes are read once through the safe opener (see :func:`audio_format`) and decoded from memory,
    so the file decoded is the file that was checked."""
    path = Path(path)
    try:
        data = read_side_file(path, _folder_of(path, folder), max_bytes=max_bytes)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    fmt = _format_of(path, io.BytesIO(data))
    if fmt.subtype == "ULAW" and fmt.container in ("WAV", "WAVEX"):
        codes = _riff_mulaw_codes(data)
        if codes is not None:
            codes = codes[:len(codes) - len(codes) % fmt.channels]
            if fmt.channels == 1:
                return WavAudio(decode(codes), fmt.rate, codes)
            return WavAudio(_mix(decode(codes), fmt.channels), fmt.rate)
    try:
        if fmt.subtype in _INTEGER_SUBTYPES:
            samples = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)[0]
        else:
            samples = _to_pcm16(soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)[0])
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise ValueError(f"{path}: unreadable audio data ({_reason(error)})") from None
    if fmt.channels > 1:
        return WavAudio(_mix(samples.reshape(-1), fmt.channels), fmt.rate)
    return WavAudio(samples.reshape(-1).astype(np.int16), fmt.rate)


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
