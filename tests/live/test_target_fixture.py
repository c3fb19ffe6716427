"""The ``callreplay_target`` fixture drives live mode from a plain pytest test."""

from __future__ import annotations

import sys

import pytest
from helpers import BRIDGE_SCENARIOS

pytestmark = pytest.mark.live


def test_callreplay_target_replays_against_a_server_the_test_starts(callreplay_target):
    scenario = BRIDGE_SCENARIOS / "inbound-both-prompts.yaml"
    assert callreplay_target.env["OPENAI_REALTIME_URL"].startswith("ws://127.0.0.1:")
    callreplay_target.start_server([sys.executable, "-m", "examples.bridge"], scenarios=[scenario],
                                   extra_env={"BRIDGE_BUGS": "wrong-voice"})
    outcome = callreplay_target.replay(scenario)
    assert [f.detector for f in outcome.findings] == ["voice-mismatch"]
    assert outcome.status == "fail"  # the scenario expects clean: no error and no warning
    assert outcome.result["mode"] == "live" and outcome.result["calls"][0]["bindings"]
