import numpy as np

from callreplay.audio.server_vad import ServerVad


def _stream(pattern):
    rms = np.array(pattern, dtype=np.int64)
    return np.arange(len(rms), dtype=np.int64) * 20_000, rms


def test_start_at_third_loud_frame_and_stop_after_700ms_quiet():
    t, rms = _stream([0, 500, 500, 500, 500] + [0] * 40)
    events = ServerVad().feed(t, rms)
    assert events == [(60_000, "speech_started"), (t[4 + 35], "speech_stopped")]


def test_loud_frame_restarts_the_silence_span():
    t, rms = _stream([500] * 3 + [0] * 20 + [500] + [0] * 40)
    events = ServerVad().feed(t, rms)
    assert events[1] == (int(t[24 + 34]), "speech_stopped")


def test_state_carries_across_feeds_and_checkpoints():
    t, rms = _stream([0, 500, 500, 500, 500] + [0] * 40 + [500] * 5)
    whole = ServerVad().feed(t, rms)
    vad = ServerVad()
    parts = []
    token = None
    for a in range(0, len(t), 7):
        if a == 21:
            token = vad.checkpoint()
        parts += vad.feed(t[a:a + 7], rms[a:a + 7])
    assert parts == whole
    vad.rollback(token)
    assert [e for a in range(21, len(t), 7) for e in vad.feed(t[a:a + 7], rms[a:a + 7])] == \
        [e for e in whole if e[0] >= t[21]]
