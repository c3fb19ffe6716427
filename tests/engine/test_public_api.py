"""The public surface is explicit and pinned; the trace loads into pandas with one call."""

import callreplay
from callreplay import load_dataframe, load_scenario, replay
from callreplay.testing import business, inbound_call, scenario_from_dict


def test_exported_members_are_pinned():
    assert sorted(callreplay.__all__) == [
        "CallReplayError", "Finding", "ImportFormatError", "Outcome", "Profile", "ProfileError", "ReplayError",
        "ReplayResult", "RunOptions", "Scenario", "ScenarioError", "Severity", "Trace", "TraceEvent", "Verdict",
        "__version__", "discover_scenarios", "evaluate", "load_dataframe", "load_profile", "load_scenario", "replay",
        "run_all", "run_detectors", "update_expectation"]
    for name in callreplay.__all__:
        assert hasattr(callreplay, name), name


def test_a_written_trace_loads_into_a_dataframe(tmp_path):
    scenario = scenario_from_dict({"name": "df", "businesses": [business(ai_prompt="")],
                                   "steps": inbound_call(talk="5s")}, tmp_path)
    result = replay(load_scenario(scenario.file), "legacy")
    path = tmp_path / "trace.jsonl"
    result.trace.write(path)
    frame = load_dataframe(path)
    assert list(frame.columns) == ["seq", "t_us", "t_s", "call", "component", "kind", "message", "data"]
    assert len(frame) == len(result.trace)
    fallbacks = frame[frame.message.fillna("").str.contains("[PROMPT FALLBACK]", regex=False)]
    assert len(fallbacks) == 2  # the webhook pre-build and the WebSocket's PART D
