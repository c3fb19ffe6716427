"""Neutral defaults: UTC unless the scenario says otherwise; the shipped scenarios say Asia/Jerusalem."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ruamel.yaml import YAML

from callreplay.replay import replay
from callreplay.scenario.load import discover_scenarios, load_scenario
from callreplay.testing import business, inbound_call, scenario_from_dict

from .helpers import REPO


def _appointment_day(tmp_path, clock: dict) -> str:
    scenario = scenario_from_dict({
        "name": "appointment", "clock": clock, "pipeline": {"prebuild_latency": "3s"},
        "businesses": [business(settings={"call_goal": "appointment", "enable_calendar_scheduling": True})],
        "steps": inbound_call(talk="5s")}, tmp_path)
    result = replay(scenario, "fixed")
    (text,) = [e.data["text"] for e in result.trace.events if e.kind == "prompt.built" and e.data["path"] == "rebuild"]
    return text.split("Today is ", 1)[1].split(".", 1)[0]


def test_a_scenario_without_clock_runs_on_utc(tmp_path):
    scenario = scenario_from_dict({"name": "plain", "steps": []}, tmp_path)
    assert scenario.timezone == "UTC"
    assert scenario.clock_start == datetime(2026, 1, 8, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("clock, day", [
    ({"start": "2026-03-05T23:59:59.500+02:00"}, "Thursday 05/03/2026"),                 # 21:59:59.5 UTC
    ({"start": "2026-03-05T23:59:59.500+02:00", "timezone": "Asia/Jerusalem"}, "Friday 06/03/2026"),
])
def test_business_settings_follow_the_scenario_time_zone(tmp_path, clock, day):
    assert _appointment_day(tmp_path, clock) == day


def test_every_shipped_scenario_states_its_time_zone():
    files = discover_scenarios([REPO / "scenarios"])
    assert len(files) > 20
    for file in files:
        clock = YAML(typ="safe").load(file.read_text(encoding="utf-8")).get("clock") or {}
        assert clock.get("timezone") == "Asia/Jerusalem" and clock.get("start"), file
        assert load_scenario(file).timezone == "Asia/Jerusalem"


def test_the_testing_helpers_take_any_country_and_language(tmp_path):
    """callreplay.testing's defaults are the modelled deployment's; a US business in English behaves the same."""
    from callreplay.testing import business, inbound_call, replay_findings, scenario_from_dict

    biz = business(phone="+14155238886", name="Golden Gate Dental",
                   ai_prompt="", outbound_ai_prompt="You call patients of Golden Gate Dental about a whitening offer.")
    scenario = scenario_from_dict({"name": "us", "businesses": [biz],
                                   "steps": inbound_call(to="+14155238886", caller="+442079460958", talk="5s")},
                                  tmp_path)
    _, legacy = replay_findings(scenario, "legacy")
    _, fixed = replay_findings(scenario, "fixed")
    assert "direction-contamination" in {f.detector for f in legacy}
    assert "direction-contamination" not in {f.detector for f in fixed}
