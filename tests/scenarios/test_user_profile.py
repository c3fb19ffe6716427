"""The example user profile (examples/profiles.py) runs from the repository root like a built-in one."""

from __future__ import annotations

import os

from shipped import ROOT, SCENARIOS

from callreplay.pipeline.profiles import Legacy, load_profile
from callreplay.runner import RunOptions, run_all

NAME = "examples.profiles:NoFallbackRebuildOnMismatch"


def test_example_profile_runs_the_incident(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    outcomes = run_all([SCENARIOS / "incident" / "incident-inbound-gets-outbound-prompt.yaml"],
                       RunOptions(profiles=[NAME], report_dir=tmp_path, write=False))
    (outcome,) = outcomes
    assert outcome.status == "pass", outcome.error
    detectors = sorted(f.detector for f in outcome.findings)
    assert "direction-contamination" not in detectors and "cross-direction-fallback" not in detectors
    assert detectors.count("missing-prompt") == 3


def test_example_profile_is_a_subclass_with_a_docstring(monkeypatch):
    monkeypatch.chdir(ROOT)
    profile = load_profile(NAME, allow_code=True)
    assert isinstance(profile, Legacy) and type(profile).__doc__
    assert (profile.cross_direction_fallback, profile.mismatch_action) == (False, "rebuild")
    assert os.getcwd() == str(ROOT)
