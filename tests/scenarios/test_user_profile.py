"""The example user profiles (examples/profiles.py) run from the repository root like built-in ones."""

from __future__ import annotations

import os

import pytest
from shipped import ROOT, SCENARIOS

from callreplay.pipeline.profiles import FIXED, Profile, load_profile
from callreplay.runner import RunOptions, run_all

INCIDENT = SCENARIOS / "incident" / "incident-inbound-gets-outbound-prompt.yaml"


def _findings(reference: str, tmp_path) -> list[str]:
    (outcome,) = run_all([INCIDENT], RunOptions(profiles=[reference], report_dir=tmp_path, write=False))
    assert outcome.status in ("pass", "fail"), outcome.error
    return sorted(f.detector for f in outcome.findings)


def test_one_switch_profile_runs_the_incident(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    detectors = _findings("examples.profiles:NO_FALLBACK_REBUILD_ON_MISMATCH", tmp_path)
    assert "direction-contamination" not in detectors and "cross-direction-fallback" not in detectors
    assert detectors.count("missing-prompt") == 3


def test_replaced_policy_profile_brings_the_contamination_back(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    detectors = _findings("examples.profiles:CHECKED_BUT_STILL_BORROWING", tmp_path)
    assert "direction-contamination" in detectors and "cross-direction-fallback" in detectors
    assert "direction-contamination" not in _findings("fixed", tmp_path)


def test_policy_from_scratch_never_crosses_directions(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    detectors = _findings("examples.profiles:SYSTEM_PROMPT_FIRST", tmp_path)
    assert "direction-contamination" not in detectors and "cross-direction-fallback" not in detectors


@pytest.mark.parametrize("attr", ["NO_FALLBACK_REBUILD_ON_MISMATCH", "CHECKED_BUT_STILL_BORROWING",
                                  "SYSTEM_PROMPT_FIRST"])
def test_example_profiles_are_compositions_that_keep_their_name(attr, monkeypatch):
    monkeypatch.chdir(ROOT)
    profile = load_profile(f"examples.profiles:{attr}", allow_code=True)
    assert isinstance(profile, Profile) and profile.based_on in ("fixed", "option3-rebuild-on-mismatch")
    assert profile.describe() == {"name": profile.name, "summary": profile.summary,
                                  "class": f"examples.profiles.{attr}"}
    assert os.getcwd() == str(ROOT)


def test_the_one_switch_profile_differs_from_its_base_in_one_policy(monkeypatch):
    monkeypatch.chdir(ROOT)
    profile = load_profile("examples.profiles:NO_FALLBACK_REBUILD_ON_MISMATCH", allow_code=True)
    base = load_profile("option3-rebuild-on-mismatch")
    changed = [seam for seam, policy in profile.policies().items() if base.policies()[seam] != policy]
    assert changed == ["prompt_source"]
    assert FIXED.policies()["prompt_source"] != profile.prompt_source
