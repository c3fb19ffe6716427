"""The echo matcher's blocks: an echo scores high wherever it starts, unrelated speech never matches.

Blocks are compared only where every frame carries a waveform, so an echo that starts or ends inside a
200 ms run is not diluted by the silent frames beside it (a live run's replies start at any moment).
"""

from __future__ import annotations

import numpy as np

from callreplay.audio.signature import mulaw_signature, signs
from callreplay.audio.sources import silence, speech
from callreplay.detectors.echo_match import FRAME_US, MATCH, _echo_frames, _Timeline

PLAYED_FROM_US = 1_000_000
DELAY_US = 200_000


def sign_frames(frames: np.ndarray) -> list[np.ndarray]:
    """Each frame's signs as the trace carries them (its ``sig``, read back)."""
    return [signs(mulaw_signature(f.tobytes()), len(f)) for f in frames]


def played(frames: np.ndarray) -> _Timeline:
    """What Twilio played: ``frames`` from PLAYED_FROM_US, nothing before."""
    signs = np.concatenate(sign_frames(frames))
    return _Timeline(PLAYED_FROM_US - 2_000_000, np.concatenate([np.zeros(16_000, np.int8), signs]))


def received(frames: np.ndarray, first_us: int) -> tuple[list[tuple[int, int]], list[np.ndarray]]:
    events = [(first_us + k * FRAME_US, k) for k in range(len(frames))]
    return events, sign_frames(frames)


def test_an_echo_starting_inside_a_block_still_scores_as_an_echo():
    bot = speech(2_000_000, 3000, seed=3)
    # the caller's line: 80 ms of silence, then the bot's voice 200 ms after Twilio played it
    line = np.concatenate([silence(80_000), bot[:80]])
    events, frames = received(line, PLAYED_FROM_US + DELAY_US - 80_000 + FRAME_US)
    found, _ = _echo_frames(played(bot), events, frames)
    assert len(found) >= 70
    assert min(f.score for f in found) >= 0.85
    assert {round(f.delay_us / 1000) for f in found} == {DELAY_US // 1000}


def test_unrelated_speech_over_the_bots_voice_is_never_an_echo():
    # bot voice 3 with callers 44, 88 and 164 are close in pitch: each matches a block or more at some lag
    for bot_seed, callers in ((3, (44, 88, 164, *range(4, 14))), (17, range(4, 14))):
        bot = speech(4_000_000, 3000, seed=bot_seed)
        for seed in callers:
            caller = speech(4_000_000, 3000, seed=seed)
            events, frames = received(caller, PLAYED_FROM_US + DELAY_US + FRAME_US)
            found, checked = _echo_frames(played(bot), events, frames)
            assert checked > 100 and not found, (bot_seed, seed, max(f.score for f in found), MATCH)


def test_one_block_at_a_chance_lag_is_not_an_echo():
    bot = speech(2_000_000, 3000, seed=3)
    # 200 ms of the bot's own voice, once: a perfect block, but nothing repeats it at that delay
    events, frames = received(bot[:10], PLAYED_FROM_US + DELAY_US + FRAME_US)
    found, checked = _echo_frames(played(bot), events, frames)
    assert checked == 10 and found == []
    events, frames = received(bot[:20], PLAYED_FROM_US + DELAY_US + FRAME_US)
    assert len(_echo_frames(played(bot), events, frames)[0]) == 20
