"""The same scenario gives a byte-identical trace and result, in this process and in another one."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from callreplay.detectors import run_detectors
from callreplay.detectors.base import Severity
from callreplay.expectations import evaluate
from callreplay.replay import replay
from callreplay.results import build_result
from callreplay.scenario.load import load_scenario
from callreplay.testing import business, inbound_call, scenario_from_dict

ROOT = Path(__file__).resolve().parents[2]


def _scenario(tmp_path):
    steps = inbound_call(talk="40s") + [
        {"at": 5, "call": "CA" + "1" * 32, "realtime": {"respond": {"duration": "2s"}}},
    ]
    steps[3]["faults"] = {"drop": 3, "duplicate": 0.02, "jitter": "5ms"}
    return scenario_from_dict({"name": "determinism", "seed": 11, "businesses": [business(ai_prompt="")],
                               "steps": steps}, tmp_path)


def _result_json(scenario, profile):
    result = replay(scenario, profile)
    findings = run_detectors(result)
    verdict = evaluate(None, profile, findings, Severity.ERROR)
    data = build_result(result, findings, verdict, slug="x", trace_file="t")
    return result.trace.dumps(), json.dumps(data, sort_keys=True, ensure_ascii=False)


def test_two_replays_are_byte_identical(tmp_path):
    scenario = _scenario(tmp_path)
    for profile in ("legacy", "fixed", "hardened"):
        assert _result_json(scenario, profile) == _result_json(scenario, profile)


def test_another_process_gives_the_same_trace(tmp_path):
    scenario = _scenario(tmp_path)
    trace, _ = _result_json(scenario, "legacy")
    code = ("import hashlib,sys;from callreplay.scenario.load import load_scenario;from callreplay.replay import replay;"
            f"print(hashlib.sha256(replay(load_scenario({str(scenario.file)!r}),'legacy').trace.dumps()"
            ".encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin", "TZ": "America/New_York"})
    assert out.stdout.strip() == hashlib.sha256(trace.encode()).hexdigest()


def test_incident_trace_is_stable(tmp_path):
    scenario = load_scenario(ROOT / "scenarios/incident/incident-inbound-gets-outbound-prompt.yaml")
    first = replay(scenario, "legacy").trace.dumps()
    assert first == replay(scenario, "legacy").trace.dumps()
