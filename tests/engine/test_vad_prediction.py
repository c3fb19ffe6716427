"""Predicting the session's VAD events (a speed shortcut) gives exactly the trace of speculate-and-rollback."""

from pathlib import Path

import pytest

from callreplay.pipeline.media_handler import MediaStreamHandler
from callreplay.replay import replay
from callreplay.scenario.load import load_scenario
from callreplay.testing import business, inbound_call, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]


def _both(scenario, profile, monkeypatch):
    with_prediction = replay(scenario, profile).trace.dumps()
    monkeypatch.setattr(MediaStreamHandler, "predict_vad", False)
    without = replay(scenario, profile).trace.dumps()
    return with_prediction, without


@pytest.mark.parametrize("profile", ["legacy", "hardened"])
def test_incident_trace_is_the_same_either_way(profile, monkeypatch):
    scenario = load_scenario(ROOT / "scenarios/incident/incident-inbound-gets-outbound-prompt.yaml")
    a, b = _both(scenario, profile, monkeypatch)
    assert a == b


def test_turns_barge_in_and_hard_limit_are_the_same_either_way(tmp_path, monkeypatch):
    steps = inbound_call(talk="90s")
    steps += [{"at": t, "call": "CA" + "1" * 32, "realtime": {"respond": {"duration": "4s"}}} for t in (10, 31, 52)]
    scenario = scenario_from_dict({"name": "vad", "businesses": [business()],
                                   "pipeline": {"max_realtime_seconds_per_call": "70s", "keepalive_interval_sec": 3},
                                   "steps": steps}, tmp_path)
    a, b = _both(scenario, "fixed", monkeypatch)
    assert a == b
    assert '"kind":"call.hard_limit"' in a and '"kind":"realtime.speech_started"' in a
