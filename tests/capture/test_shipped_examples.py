"""The examples the docs point at are in the repository and import into working scenarios."""

from __future__ import annotations

from pathlib import Path

from callreplay.capture.importers.from_capture import import_capture
from callreplay.scenario.load import load_scenario
from callreplay.testing import replay_findings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_capture_imports_and_shows_the_incident(tmp_path):
    captures = sorted((EXAMPLES / "captures").glob("CA*.jsonl"))
    assert captures, "examples/captures/ must ship a capture"
    out = tmp_path / "from-capture.yaml"
    import_capture(captures, out, businesses=EXAMPLES / "captures" / "businesses.yaml")
    _, findings = replay_findings(load_scenario(out), "legacy")
    assert "direction-contamination" in {f.detector for f in findings}


def test_example_log_and_profile_exist():
    assert (EXAMPLES / "logs" / "incident.log").is_file()
    assert (EXAMPLES / "profiles.py").is_file()
