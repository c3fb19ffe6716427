"""Exact spec numbers (spec 8.1-8.3), checked on both implementations."""

import numpy as np
import pytest

from callreplay.audio import AudioConfig, FastAudioPath, FrameBatch, ReferenceAudioPath
from callreplay.audio.sources import payloads, silence, speech, tone

IMPLEMENTATIONS = pytest.mark.parametrize("cls", [ReferenceAudioPath, FastAudioPath])
QUIET = tone(300, 10, 20_000)[0]   # rms about 10: noise
LOUD = tone(300, 2000, 20_000)[0]


def _frames(*runs):
    return np.vstack([np.repeat(row[None, :], n, axis=0) for row, n in runs])


def _messages(result):
    return [line.message for line in result.logs]


@IMPLEMENTATIONS
def test_calibration_finishes_at_40_noise_frames(cls):
    path = cls()
    result = path.process(FrameBatch.paced(_frames((LOUD, 5), (QUIET, 40), (QUIET, 5))))
    assert path.counters["is_calibrated"] is True
    assert path.counters["calibration_frames"] == 40
    assert path.counters["total_calibration_attempts"] == 45
    floor = path.counters["noise_floor"]
    assert path.counters["vad_threshold"] == floor + 55.0
    vad = [line for line in result.logs if "[VAD]" in line.message]
    assert [line.message for line in vad] == [f"✅ [VAD] Calibrated: noise={floor:.1f}, threshold={floor + 55.0:.1f}"]
    assert vad[0].t_us == 44 * 20_000


@IMPLEMENTATIONS
def test_calibration_times_out_at_200_attempts_with_baseline(cls):
    path = cls()
    path.process(FrameBatch.paced(_frames((QUIET, 9), (LOUD, 190))))
    assert path.counters["is_calibrated"] is False
    result = path.process(FrameBatch.paced(_frames((LOUD, 1)), start_us=199 * 20_000))
    assert path.counters["is_calibrated"] is True
    assert path.counters["vad_threshold"] == 80.0
    assert [m for m in _messages(result) if "[VAD]" in m] == ["🎛️ [VAD] TIMEOUT - using baseline threshold=80.0"]


@IMPLEMENTATIONS
def test_ten_noise_frames_are_enough_for_an_adaptive_threshold(cls):
    path = cls()
    path.process(FrameBatch.paced(_frames((QUIET, 10), (LOUD, 190))))
    assert path.counters["vad_threshold"] == path.counters["noise_floor"] + 55.0


@IMPLEMENTATIONS
def test_adaptive_threshold_is_capped_at_120(cls):
    path = cls(AudioConfig(rms_silence_threshold=200))
    path.process(FrameBatch.paced(_frames((tone(300, 100, 20_000)[0], 40))))
    assert path.counters["vad_threshold"] == 120.0


@IMPLEMENTATIONS
def test_hard_limit_trips_on_the_42001st_frame(cls):
    path = cls()
    path.on_sender_started(0)
    result = path.process(FrameBatch.paced(_frames((LOUD, 42_002)), frame_us=1_000))
    assert len(result.forwarded) == 42_000
    assert result.limit_reason == "frames"
    assert result.limit_exceeded_at_us == 42_000 * 1_000
    assert _messages(result)[-2:] == ["🛑 [BUILD 331] HARD LIMIT EXCEEDED! frames=42001 > max=42000",
                                      "🛡️ OPENAI_USAGE_GUARD: frames_sent=42001 limit_exceeded=True"]
    assert path.counters["rx"] == 42_002
    assert path.counters["stats_audio_sent"] == 42_000


@IMPLEMENTATIONS
def test_hard_limit_trips_after_600s_not_at_600s(cls):
    path = cls()
    path.on_sender_started(5_000_000)
    batch = FrameBatch.build(_frames((LOUD, 3)), [5_000_000, 605_000_000, 605_000_001], [1, 2, 3],
                             [1, 2, 3], [0, 20, 40])
    result = path.process(batch)
    assert result.forwarded.tolist() == [0, 1]
    assert result.limit_exceeded_at_us == 605_000_001
    assert _messages(result)[0] == "🛑 [BUILD 331] HARD LIMIT EXCEEDED! call_duration=600.0s > max=600s"


@IMPLEMENTATIONS
def test_queue_full_on_the_1001st_queued_frame_logs_drops_1_and_51(cls):
    path = cls()
    result = path.process(FrameBatch.paced(_frames((LOUD, 1_051))))
    assert path.counters["queued"] == 1_000
    assert result.dropped["QUEUE_FULL"] == 51
    full = [line for line in result.logs if "QUEUE_FULL" in line.message]
    assert [line.message for line in full] == ["⚠️ [QUEUE_FULL] Dropped 1 frames", "⚠️ [QUEUE_FULL] Dropped 51 frames"]
    assert full[0].t_us == 1_000 * 20_000
    assert _messages(result)[0] == "⏸️ [AUDIO_GATE] Queuing audio - waiting for session.updated confirmation"


@IMPLEMENTATIONS
def test_sender_start_flushes_the_backlog_at_its_own_time(cls):
    path = cls()
    batch = FrameBatch.paced(_frames((LOUD, 10)))
    path.process(batch)
    result = path.on_sender_started(3_000_000)
    assert result.forwarded.tolist() == list(range(10))
    assert set(result.forwarded_at_us.tolist()) == {3_000_000}
    assert result.forwarded_batch == (batch,) * 10
    assert _messages(result) == ["▶️ [AUDIO_GATE] Session confirmed"]
    assert path.counters["queued"] == 0


@IMPLEMENTATIONS
def test_closing_drops_dequeued_frames(cls):
    path = cls()
    path.on_sender_started(0)
    path.set_closing(True)
    result = path.process(FrameBatch.paced(_frames((LOUD, 5))))
    assert result.dropped["CLOSING"] == 5 and len(result.forwarded) == 0
    assert path.counters["frames_in"] == 5 and path.counters["total_frames_sent"] == 0


@IMPLEMENTATIONS
def test_13_2_4_queue_full_and_closing_drops_count_as_blocked(cls):
    full = cls()
    full.process(FrameBatch.paced(_frames((LOUD, 1_051))))
    assert full.counters["stats_audio_blocked"] == 51
    closing = cls()
    closing.on_sender_started(0)
    closing.set_closing(True)
    closing.process(FrameBatch.paced(_frames((LOUD, 5))))
    assert closing.counters["stats_audio_blocked"] == 5


@IMPLEMENTATIONS
def test_gate_blocks_quiet_frames_outside_simple_mode_and_logs_every_100(cls):
    path = cls(AudioConfig(simple_mode=False))
    path.on_sender_started(0)
    result = path.process(FrameBatch.paced(_frames((QUIET, 250))))
    assert len(result.forwarded) == 0
    assert _messages(result)[-2:] == ["🔇 [AUDIO GATE] Blocked 100 frames", "🔇 [AUDIO GATE] Blocked 200 frames"]


@IMPLEMENTATIONS
def test_13_2_3_outside_simple_mode_the_required_streak_is_0(cls):
    config = AudioConfig(simple_mode=False, echo_gate_min_rms=1e9)
    assert config.required_voice_frames == 0 and AudioConfig().required_voice_frames == 12
    path = cls(config)
    path.on_sender_started(0)
    result = path.process(FrameBatch.paced(_frames((tone(300, 100, 20_000)[0], 20))))
    assert result.forwarded.tolist() == list(range(20))


@IMPLEMENTATIONS
def test_an_explicit_streak_still_needs_that_many_consecutive_frames(cls):
    path = cls(AudioConfig(simple_mode=False, echo_gate_min_rms=1e9, min_consecutive_voice_frames=12))
    path.on_sender_started(0)
    result = path.process(FrameBatch.paced(_frames((tone(300, 100, 20_000)[0], 20))))
    assert result.forwarded.tolist() == list(range(11, 20))


@IMPLEMENTATIONS
def test_echo_gate_drops_while_ai_speaks_then_decays(cls):
    path = cls(AudioConfig(simple_mode=False))
    path.on_sender_started(0)
    path.on_ai_speaking(0, True)
    first = path.process(FrameBatch.paced(_frames((QUIET, 10))))
    path.on_ai_speaking(200_000, False)
    second = path.process(FrameBatch.paced(_frames((QUIET, 50)), start_us=200_000))
    assert first.dropped["ECHO_GATE"] == 10
    assert second.dropped["ECHO_DECAY"] == 40  # 800 ms of 20 ms frames
    assert path.counters["ai_finished_speaking_us"] is None


@IMPLEMENTATIONS
def test_speech_bypass_times_out_after_30s(cls):
    path = cls()
    path.on_speech_started(0)
    result = path.process(FrameBatch.paced(_frames((LOUD, 1_600))))
    timeouts = [line for line in result.logs if line.message == "⏱️ [BUILD 166] Speech timeout"]
    assert [line.t_us for line in timeouts] == [30_020_000]


@IMPLEMENTATIONS
def test_keepalive_every_10s_from_the_start_event(cls):
    path = cls(last_keepalive_us=1_000_000)
    result = path.process(FrameBatch.paced(silence(25_000_000)))
    assert result.keepalives.tolist() == [11_020_000, 21_040_000]
    assert path.counters["keepalive_count"] == 2


@IMPLEMENTATIONS
def test_recorded_payloads_are_forwarded_byte_for_byte(cls):
    frames = speech(1_000_000, 1500, seed=2)
    import base64
    recorded = payloads([base64.b64encode(row.tobytes()).decode() for row in frames])
    batch = FrameBatch.paced(recorded.raw, b64=recorded.b64)
    path = cls()
    path.on_sender_started(0)
    result = path.process(batch)
    assert [batch.b64_at(i) for i in result.forwarded] == list(recorded.b64)
    assert b"".join(batch.payload_bytes(i) for i in result.forwarded) == frames.tobytes()
    assert batch.sha256_of(result.forwarded) == FrameBatch.paced(frames).sha256_of(range(50))
