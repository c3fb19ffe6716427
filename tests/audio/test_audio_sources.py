import struct
import wave

import numpy as np
import pytest

from callreplay.audio.mulaw import decode, encode, frame_rms
from callreplay.audio.sources import payloads, silence, speech, tone, wav_file

RATES = [8000, 16000, 24000, 44100, 48000]


def _sine(rate, seconds, hz=1000.0, amplitude=8000.0, channels=1):
    n = int(rate * seconds)
    mono = np.round(amplitude * np.sin(2 * np.pi * hz * np.arange(n) / rate)).astype(np.int16)
    return np.repeat(mono, channels) if channels > 1 else mono


def _write_pcm16(path, rate, samples, channels=1):
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())


def _write_mulaw(path, rate, codes, channels=1):
    fmt = struct.pack("<HHIIHH", 7, channels, rate, rate * channels, channels, 8)
    data = codes.astype(np.uint8).tobytes()
    pad = b"\x00" if len(data) % 2 else b""
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data + pad
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def _dominant_hz(frames):
    pcm = decode(frames).reshape(-1).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(pcm))
    return np.fft.rfftfreq(len(pcm), 1 / 8000)[spectrum.argmax()]


@pytest.mark.parametrize("rate", RATES)
def test_pcm16_wav_converts_to_frames_of_the_right_count(tmp_path, rate):
    path = tmp_path / f"tone{rate}.wav"
    _write_pcm16(path, rate, _sine(rate, 2.01))
    frames = wav_file(path)
    assert frames.shape[1] == 160 and frames.dtype == np.uint8
    assert abs(len(frames) - 2.01 / 0.02) <= 1


@pytest.mark.parametrize("rate", RATES)
def test_mulaw_wav_converts_to_frames_of_the_right_count(tmp_path, rate):
    path = tmp_path / f"tone{rate}.wav"
    _write_mulaw(path, rate, encode(_sine(rate, 1.5)))
    assert abs(len(wav_file(path)) - 75) <= 1


@pytest.mark.parametrize("rate", RATES)
def test_1khz_tone_keeps_frequency_and_rms(tmp_path, rate):
    path = tmp_path / "tone.wav"
    _write_pcm16(path, rate, _sine(rate, 1.0, amplitude=8000.0, channels=2), channels=2)
    frames = wav_file(path)
    assert abs(_dominant_hz(frames[1:-1]) - 1000) < 5
    rms = np.median(frame_rms(frames[1:-1]))
    assert abs(rms - 8000 / np.sqrt(2)) / (8000 / np.sqrt(2)) < 0.05


def test_mulaw_8k_mono_wav_keeps_the_bytes(tmp_path):
    codes = np.random.default_rng(0).integers(0, 256, size=400, dtype=np.uint8)
    path = tmp_path / "rec.wav"
    _write_mulaw(path, 8000, codes)
    frames = wav_file(path)
    assert frames.reshape(-1)[:400].tolist() == codes.tolist()
    assert (frames.reshape(-1)[400:] == 0xFF).all()


@pytest.mark.parametrize("content, message", [
    (b"not a wav", "unreadable audio file \\(Format not recognised\\)"),
    (b"RIFF\x04\x00\x00\x00WAVE", "unreadable audio file \\(Error in WAV file. No 'data' chunk marker\\)"),
])
def test_unreadable_wav_raises_value_error(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        wav_file(path)


def test_alaw_wav_is_decoded_by_libsndfile(tmp_path):
    path = tmp_path / "alaw.wav"
    _write_mulaw(path, 8000, np.full(1600, 0xD5, dtype=np.uint8))
    path.write_bytes(path.read_bytes().replace(b"fmt \x10\x00\x00\x00\x07", b"fmt \x10\x00\x00\x00\x06"))
    frames = wav_file(path)  # 0xD5 is A-law's smallest positive step: near-silence, not refused
    assert frames.shape == (10, 160) and (frame_rms(frames) < 20).all()


def test_missing_wav_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        wav_file(tmp_path / "absent.wav")


def test_silence_frames_decode_to_zero_rms():
    frames = silence(1_000_000)
    assert frames.shape == (50, 160)
    assert frame_rms(frames).max() == 0


def test_tone_has_requested_rms():
    rms = frame_rms(tone(440, 1000, 1_000_000))
    assert np.all(np.abs(rms - 1000) < 40)


def test_speech_stays_above_echo_gate_for_nearly_every_frame():
    rms = frame_rms(speech(10_000_000, 1500, seed=4))
    assert np.mean(rms > 275) >= 0.95
    assert rms.min() > 35


def test_speech_at_1000_stays_above_thresholds():
    rms = frame_rms(speech(10_000_000, 1000, seed=9))
    assert np.mean(rms > 275) >= 0.95


def test_speech_is_deterministic_for_a_seed():
    assert np.array_equal(speech(400_000, 1500, seed=1), speech(400_000, 1500, seed=1))
    assert not np.array_equal(speech(400_000, 1500, seed=1), speech(400_000, 1500, seed=2))


def test_payloads_reject_bad_base64():
    with pytest.raises(ValueError, match="payload #1 is not valid base64"):
        payloads(["/w==", "***"])


def test_a_long_step_opens_its_file_under_the_scenario_limits_like_a_short_one(tmp_path):
    """A long ``for:`` step streams its pattern; its file is still opened with the scenario's size limit."""
    from callreplay import feeds
    from callreplay.errors import ScenarioError
    from callreplay.testing import INBOUND_SID, business, scenario_from_dict

    _write_pcm16(tmp_path / "voice.wav", 8000, _sine(8000, 1.0))
    media = {"at": 1, "call": INBOUND_SID, "ws": {"media": [{"file": "voice.wav"}]}, "for": "30m"}
    steps = [{"at": 0, "webhook": "incoming_call",
              "params": {"CallSid": INBOUND_SID, "From": "+972501234567", "To": "+97231234567"}},
             {"at": 0.5, "call": INBOUND_SID, "ws": "start"}, media]
    roomy = scenario_from_dict({"name": "roomy", "businesses": [business()], "steps": steps}, tmp_path, "a.yaml")
    tight = scenario_from_dict({"name": "tight", "businesses": [business()], "steps": steps,
                                "limits": {"side_file_bytes": 1000}}, tmp_path, "b.yaml")
    step = next(s for s in roomy.steps if getattr(s, "media", None))
    batch, paced = feeds.media_feed_source(roomy, step, 0)
    assert paced is not None and paced.total == 90_000 and len(batch) == feeds.WINDOW_FRAMES
    step = next(s for s in tight.steps if getattr(s, "media", None))
    with pytest.raises(ScenarioError, match="more than the limit of 1000"):
        feeds.media_feed_source(tight, step, 0)
