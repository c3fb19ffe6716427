"""Latency expectations on virtual time, and the ``callreplay_replay`` fixture asserting on a replay."""

from __future__ import annotations

import pytest

from callreplay.errors import ScenarioError
from callreplay.latency import first_model_audio, reply_latencies
from callreplay.testing import INBOUND_SID, business, inbound_call

from .helpers import REPO


def _scenario(expect: dict) -> dict:
    return {"name": "latency", "businesses": [business()], "steps": inbound_call(talk="12s"), "expect": expect}


def test_first_model_audio_is_measured_from_start_to_the_first_media_sent_to_twilio(callreplay_replay):
    run = callreplay_replay(REPO / "scenarios" / "audio" / "caller-waits-for-greeting.yaml", "fixed")
    (measured,) = first_model_audio(run.trace)
    start = next(e for e in run.trace if e.kind == "ws.in" and e.data["event"] == "start")
    audio = next(e for e in run.trace if e.kind == "ws.out" and e.data["event"] == "media")
    assert (measured.start_us, measured.end_us) == (start.t_us, audio.t_us) == (820_000, 1_620_000)
    replies = reply_latencies(run.trace)
    assert [m.latency_us for m in replies] == [300_000] * 4
    assert all(m.start_us == e.t_us for m, e in zip(replies, run.trace.of_kind("realtime.speech_stopped"), strict=True))


def test_latency_bounds_pass_and_fail_with_the_measured_interval(callreplay_replay):
    ok = callreplay_replay(_scenario({"fixed": [{"metric": "first-model-audio", "within": "1.5s"},
                                                {"metric": "reply-latency", "within": "500ms",
                                                 "call": INBOUND_SID}]}), "fixed")
    assert ok.passed, ok.verdict
    assert [r.met for r in ok.verdict.latency] == [True, True]
    slow = callreplay_replay(_scenario({"fixed": [{"metric": "first-model-audio", "within": "700ms"}]}), "fixed")
    assert not slow.passed
    with pytest.raises(pytest.fail.Exception) as failure:
        slow.assert_expectations()
    assert f"latency: first-model-audio on {INBOUND_SID} from 820ms: 800ms, expected within 700ms" \
        in str(failure.value)


def test_a_bound_with_nothing_to_measure_fails(callreplay_replay):
    body = _scenario({"fixed": [{"metric": "reply-latency", "within": "1s", "call": "CA9"}]})
    ringing = dict(body["steps"][0], params={**body["steps"][0]["params"], "CallSid": "CA9"})  # rings, never streams
    body["steps"] = [*body["steps"], ringing]
    run = callreplay_replay(body, "fixed")
    assert not run.passed and run.verdict.latency[0].measured == []


def test_an_unknown_metric_is_a_located_error(callreplay_replay):
    with pytest.raises(ScenarioError) as error:
        callreplay_replay(_scenario({"fixed": [{"metric": "first-audio", "within": "1s"}]}))
    assert "expect.fixed[0].metric" in str(error.value)


def test_the_fixture_replays_a_shipped_file_and_its_expectations(callreplay_replay):
    run = callreplay_replay(REPO / "scenarios" / "incident" / "incident-inbound-gets-outbound-prompt.yaml", "legacy")
    assert run.count("direction-contamination") == 3
    assert run.count("direction-contamination", call="CA" + "0" * 31 + "1") == 1
    run.assert_expectations()


def test_the_html_report_lists_latency_bounds(tmp_path):
    from click.testing import CliRunner

    from callreplay.cli import main
    from callreplay.testing import scenario_from_dict

    scenario = scenario_from_dict(_scenario({"fixed": [{"metric": "first-model-audio", "within": "700ms"},
                                                       {"metric": "reply-latency", "within": "1s"}]}), tmp_path)
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["run", str(scenario.file), "--report-dir", str(out)])
    assert result.exit_code == 1, result.output
    (page,) = [p for p in out.rglob("*.html") if p.name != "index.html"]
    html = page.read_text(encoding="utf-8")
    assert "latency first-model-audio within 700ms" in html and "latency reply-latency within 1.00s" in html
    assert f"{INBOUND_SID} from 820ms: 800ms" in html
