"""Detectors come in through the ``callreplay.detectors`` entry-point group; switches apply per scenario."""

from importlib.metadata import EntryPoint

import pytest

from callreplay.detectors import registry
from callreplay.detectors.base import BaseDetector, Evidence, Severity
from callreplay.testing import business, inbound_call, replay_findings, scenario_from_dict


class LongCalls(BaseDetector):
    """A user's rule: any call longer than 5 s (a stand-in for a team-specific policy)."""

    id = "long-call"
    summary = "a call lasted longer than five seconds"
    severity = Severity.INFO

    def check(self, view):
        for call in view.calls.values():
            if call.ended_us is not None and call.started_us is not None and call.ended_us - call.started_us > 5e6:
                yield self.finding(view, call.sid, call.ended_us, f"{call.sid} lasted over 5 s",
                                   Evidence("duration", "from start to end", ()))


class NoCheck:
    id = "broken"
    summary = "lacks check()"
    severity = "error"


@pytest.fixture
def extra_entry_points(monkeypatch):
    def install(*points):
        builtin = list(registry.entry_points(group=registry.GROUP))
        monkeypatch.setattr(registry, "entry_points", lambda group: [*builtin, *points])
        registry.all_detectors.cache_clear()

    yield install
    registry.all_detectors.cache_clear()


def test_a_plugin_detector_runs_beside_the_builtins(tmp_path, extra_entry_points):
    extra_entry_points(EntryPoint("long-call", f"{__name__}:LongCalls", registry.GROUP))
    assert "long-call" in registry.all_detectors()
    scenario = scenario_from_dict({"name": "p", "businesses": [business()], "steps": inbound_call(talk="8s")}, tmp_path)
    _, findings = replay_findings(scenario, "hardened")
    assert [f.detector for f in findings] == ["long-call"]


def test_a_broken_plugin_is_named_with_what_it_lacks(extra_entry_points):
    extra_entry_points(EntryPoint("broken", f"{__name__}:NoCheck", registry.GROUP))
    with pytest.raises(registry.DetectorLoadError, match=r"detector entry point 'broken' lacks: check\(\)"):
        registry.all_detectors()


def test_scenario_switches_turn_a_detector_off_or_change_its_severity(tmp_path):
    base = {"name": "s", "businesses": [business(ai_prompt="")], "steps": inbound_call(talk="6s")}
    _, findings = replay_findings(scenario_from_dict(base, tmp_path, "a.yaml"))
    assert {"cross-direction-fallback", "direction-contamination"} <= {f.detector for f in findings}
    switched = dict(base, detectors={"cross-direction-fallback": "off", "direction-contamination": "warning"})
    _, findings = replay_findings(scenario_from_dict(switched, tmp_path, "b.yaml"))
    assert "cross-direction-fallback" not in {f.detector for f in findings}
    assert {f.severity for f in findings if f.detector == "direction-contamination"} == {Severity.WARNING}
