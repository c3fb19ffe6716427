"""Audio files through soundfile: float32, WAVE_FORMAT_EXTENSIBLE, 24-bit and FLAC replay like PCM16."""

from __future__ import annotations

import struct
import wave

import numpy as np
import pytest
import soundfile

from callreplay.audio.sources import wav_file
from callreplay.audio.wav import audio_format
from callreplay.errors import ScenarioError
from callreplay.scenario.load import load_scenario
from callreplay.testing import INBOUND_SID, business

RATE = 16000


def _signal() -> np.ndarray:
    t = np.arange(RATE * 2) / RATE
    return np.round(9000 * np.sin(2 * np.pi * 300 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.int16)


def _format_tag(path) -> int:
    data = path.read_bytes()
    at = data.index(b"fmt ") + 8
    return struct.unpack("<H", data[at:at + 2])[0]


@pytest.fixture
def files(tmp_path):
    samples = _signal()
    pcm16 = tmp_path / "pcm16.wav"
    with wave.open(str(pcm16), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(samples.tobytes())
    as_float = samples.astype(np.float32) / 32768.0
    written = {"pcm16": pcm16}
    for name, fmt, subtype, data in [("float32", "WAV", "FLOAT", as_float), ("extensible", "WAVEX", "PCM_16", samples),
                                     ("pcm24", "WAV", "PCM_24", as_float), ("flac", "FLAC", "PCM_16", samples)]:
        path = tmp_path / f"{name}.{'flac' if fmt == 'FLAC' else 'wav'}"
        soundfile.write(str(path), data, RATE, subtype=subtype, format=fmt)
        written[name] = path
    return written


def test_the_files_are_what_they_claim(files):
    assert _format_tag(files["float32"]) == 3            # WAVE_FORMAT_IEEE_FLOAT
    assert _format_tag(files["extensible"]) == 0xFFFE    # WAVE_FORMAT_EXTENSIBLE, as ffmpeg and sox write
    assert audio_format(files["pcm24"]).subtype == "PCM_24"
    assert audio_format(files["flac"]).container == "FLAC"


def test_every_format_gives_the_pcm16_frames(files):
    reference = wav_file(files["pcm16"])
    assert reference.shape == (100, 160)
    for name, path in files.items():
        assert np.array_equal(wav_file(path), reference), name


def _scenario(audio: str) -> dict:
    return {"name": f"audio-{audio}", "businesses": [business()], "steps": [
        {"at": 0, "webhook": "incoming_call",
         "params": {"CallSid": INBOUND_SID, "From": "+972501234567", "To": "+97231234567", "Direction": "inbound"}},
        {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
        {"at": 3.0, "call": INBOUND_SID, "ws": {"media": {"file": audio}}},
        {"at": 6.0, "call": INBOUND_SID, "ws": "stop"}]}


def test_float32_and_extensible_wavs_replay_like_pcm16(files, tmp_path, callreplay_replay):
    callreplay_replay.folder = tmp_path  # the scenarios are written next to the audio files

    def sent_audio(name: str) -> tuple[int, str]:
        run = callreplay_replay(_scenario(files[name].name), "hardened")
        (closed,) = run.trace.of_kind("realtime.session_closed")
        return closed.data["appended_frames"], closed.data["audio_sha256"]

    reference = sent_audio("pcm16")
    assert reference[0] == 100
    assert sent_audio("float32") == reference
    assert sent_audio("extensible") == reference


def test_validate_refuses_a_file_libsndfile_cannot_read(tmp_path):
    (tmp_path / "notes.wav").write_text("not audio")
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(_scenario("notes.wav"), allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert "steps[2].ws.media.file: audio file 'notes.wav': unreadable audio file (Format not recognised)" \
        in str(error.value)
