"""Overlapping calls are delivered slice by slice, but each call's own events stay in time order."""

from pathlib import Path

import pytest

from callreplay.replay import replay
from callreplay.scenario.load import discover_scenarios, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [p for p in discover_scenarios([ROOT / "scenarios"])]


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_each_call_timeline_is_monotonic(path):
    scenario = load_scenario(path)
    result = replay(scenario, scenario.profiles_to_run()[0])
    last: dict[str, tuple[int, int]] = {}
    for event in result.trace.events:
        if event.call is None:
            continue
        previous = last.get(event.call)
        assert previous is None or event.t_us >= previous[0], (
            f"{event.call}: seq {event.seq} {event.kind} at {event.t_us} after seq {previous[1]} at {previous[0]}")
        last[event.call] = (event.t_us, event.seq)
