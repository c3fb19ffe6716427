"""Predicting the session's VAD events (a speed shortcut) gives exactly the trace of speculate-and-rollback."""

import json
from pathlib import Path

import pytest

from callreplay.pipeline.media_audio import CallerAudio
from callreplay.replay import replay
from callreplay.scenario.load import load_scenario
from callreplay.testing import business, inbound_call, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]


def _both(scenario, profile, monkeypatch):
    with_prediction = replay(scenario, profile).trace.dumps()
    monkeypatch.setattr(CallerAudio, "predict_vad", False)
    without = replay(scenario, profile).trace.dumps()
    return with_prediction, without


@pytest.mark.parametrize("profile", ["legacy", "hardened"])
def test_incident_trace_is_the_same_either_way(profile, monkeypatch):
    scenario = load_scenario(ROOT / "scenarios/incident/incident-inbound-gets-outbound-prompt.yaml")
    a, b = _both(scenario, profile, monkeypatch)
    assert a == b


@pytest.mark.parametrize("simple_mode", [True, False])
def test_turns_barge_in_and_hard_limit_are_the_same_either_way(tmp_path, monkeypatch, simple_mode):
    steps = inbound_call(talk="90s")
    steps += [{"at": t, "call": "CA" + "1" * 32, "realtime": {"respond": {"duration": "4s"}}} for t in (10, 31, 52)]
    scenario = scenario_from_dict({"name": "vad", "businesses": [business()],
                                   "pipeline": {"max_realtime_seconds_per_call": "70s", "keepalive_interval_sec": 3,
                                                "simple_mode": simple_mode},
                                   "steps": steps}, tmp_path)
    a, b = _both(scenario, "fixed", monkeypatch)
    assert a == b
    assert '"kind":"call.hard_limit"' in a and '"kind":"realtime.speech_started"' in a


def test_two_hour_echo_gate_call_is_the_same_either_way(tmp_path, monkeypatch):
    """The benchmark's echo-gate call, shortened: gates drop frames, so predictions are only guesses."""
    steps = inbound_call(talk="12m")
    steps += [{"at": t, "call": "CA" + "1" * 32, "realtime": {"respond": {"duration": "3s"}}} for t in range(30, 720, 30)]
    scenario = scenario_from_dict({"name": "echo", "businesses": [business()],
                                   "pipeline": {"max_realtime_seconds_per_call": "1h", "max_audio_frames_per_call": 10**6,
                                                "simple_mode": False}, "steps": steps}, tmp_path)
    a, b = _both(scenario, "fixed", monkeypatch)
    assert a == b
    ended = json.loads(next(line for line in a.splitlines() if '"kind":"call.ended"' in line))
    counters = ended["data"]["counters"]
    # the echo gate runs only until the greeting ends (spec 8.2 step 10); the send decision gates throughout
    assert counters["frames_dropped_by_filters"] > 0 and counters["frames_gated"] > 1000
