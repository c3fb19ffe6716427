"""Caller audio with a spectral character, stall-then-burst delivery, and the bot's echo on the caller's line."""

import base64

import numpy as np
import pytest

from callreplay.audio import FrameBatch
from callreplay.audio.faults import apply_faults
from callreplay.audio.mulaw import decode, encode, frame_rms
from callreplay.audio.signature import mulaw_signature, signs
from callreplay.audio.sources import music, noise, silence, speech
from callreplay.live.echo_line import EchoLine
from callreplay.scenario.model import EchoSpec


def _zcr(frames):
    pcm = np.sign(decode(frames.reshape(-1)).astype(np.int32))
    return float(np.mean(pcm[1:] != pcm[:-1]))


@pytest.mark.parametrize("zcr", [0.03, 0.2, 0.5, 0.85])
def test_noise_has_the_asked_zero_crossing_rate_and_rms(zcr):
    frames = noise(2_000_000, 800, zcr, 5)
    assert abs(_zcr(frames) - zcr) <= 0.02 + 0.05 * zcr
    assert abs(float(np.sqrt(np.mean(decode(frames.reshape(-1)).astype(float) ** 2))) - 800) < 20


@pytest.mark.parametrize("zcr", [0.05, 0.1, 0.3])
def test_music_is_pitched_to_its_zero_crossing_rate_and_never_pauses(zcr):
    frames = music(3_000_000, 1000, zcr, 2)
    assert abs(_zcr(frames) - zcr) <= 0.15 * zcr
    assert frame_rms(frames).min() > 500  # no syllable gaps: an energy gate sees it as one long turn


def test_bad_zero_crossing_rates_are_refused():
    with pytest.raises(ValueError, match="zcr"):
        noise(100_000, 800, 1.0, 1)
    with pytest.raises(ValueError, match="zcr"):
        music(100_000, 800, 0.9, 1)


def test_stall_holds_frames_then_delivers_them_at_once():
    batch = FrameBatch.paced(speech(2_000_000, 1500, seed=0), start_us=1_000_000)
    out = apply_faults(batch, {"stall": {"at": "500ms", "duration": "300ms"}}, seed=1)
    arrival = out.arrival_us
    assert np.array_equal(out.seq, batch.seq)  # nothing lost or reordered
    held = (batch.arrival_us >= 1_500_000) & (batch.arrival_us < 1_800_000)
    assert held.sum() == 15 and np.all(arrival[held] == 1_800_000)  # a burst of 15 frames at the stall's end
    assert np.array_equal(arrival[~held], batch.arrival_us[~held])  # the rest on time (unlike a gap)


def test_signatures_survive_gain_and_delay_but_not_other_audio():
    voice = speech(400_000, 1500, seed=3).reshape(-1)
    own = signs(mulaw_signature(bytes(voice)), len(voice))
    pcm = decode(voice).astype(np.int32)
    quieter = np.clip(np.round(pcm * 0.25), -32768, 32767).astype(np.int16)  # 12 dB down, re-encoded
    echo = signs(mulaw_signature(encode(quieter).tobytes()), len(voice))
    other = signs(mulaw_signature(bytes(speech(400_000, 1500, seed=4).reshape(-1))), len(voice))
    assert own is not None and echo is not None and other is not None
    assert np.mean(own == echo) > 0.95 and abs(np.mean(own * other)) < 0.2
    assert signs("not base64!", 160) is None and signs(mulaw_signature(b"\xff" * 10), 160) is None


def _batch_at(payload_frames, start_us):
    return FrameBatch.paced(payload_frames, start_us=start_us)


def test_echo_line_mixes_what_was_played_delay_earlier_and_attenuated():
    line = EchoLine(0)
    bot = speech(1_000_000, 1500, seed=1)
    line.played(100_000, bytes(bot.reshape(-1)))
    caller = _batch_at(silence(2_000_000), 0)
    spec = EchoSpec(200_000, 12.0)
    before = line.mix(caller, 10, spec)  # captured at 200 ms: the line heard nothing at 0 ms
    assert before == caller.b64_at(10)
    k = 25  # captured at 500 ms: the bot's audio played at 300 ms, 12 dB down
    mixed = np.frombuffer(base64.b64decode(line.mix(caller, k, spec)), dtype=np.uint8)
    played = bot.reshape(-1)[(300_000 - 100_000) // 125:][:160]
    assert abs(int(frame_rms(mixed[None])[0]) - int(frame_rms(played[None])[0]) * spec.gain) < 60
    assert np.mean((mixed >> 7) == (played >> 7)) > 0.9  # the same waveform: the signs agree
    line.cleared(400_000)  # Twilio cleared at 400 ms: what was queued after it never played
    assert line.mix(caller, 35, spec) == caller.b64_at(35)  # captured at 700 ms: echo of 500 ms, never played
