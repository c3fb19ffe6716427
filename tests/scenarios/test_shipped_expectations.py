"""Every shipped scenario meets its own expectations under every profile it names."""

from __future__ import annotations

import re

import pytest
from shipped import FILES, rel, replayed, scenario

from callreplay.detectors import all_detectors
from callreplay.detectors.base import Severity
from callreplay.expectations import evaluate

CASES = [(rel(f), p) for f in FILES for p in scenario(rel(f)).expect]
CALL_SID = re.compile(r"^CA[0-9a-f]{32}$")


@pytest.mark.parametrize(("name", "profile"), CASES, ids=[f"{n}[{p}]" for n, p in CASES])
def test_scenario_meets_its_expectations(name, profile):
    sc = scenario(name)
    _, findings = replayed(name, profile)
    verdict = evaluate(sc.expect[profile], profile, findings, Severity.ERROR)
    problems = [f"missing {e.expected.finding} call={e.expected.call}: found {e.count}" for e in verdict.entries
                if not e.met] + [f"unexpected {f.detector} {f.severity.value} {f.call}: {f.message}"
                                 for f in verdict.unexpected]
    assert verdict.passed, f"{name} [{profile}]:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("name", [rel(f) for f in FILES])
def test_scenario_is_documented_and_realistic(name):
    sc = scenario(name)
    assert sc.description.strip() and sc.tags and sc.expect, name
    for sid in sc.call_sids():
        assert CALL_SID.match(sid), f"{name}: {sid} is not CA + 32 hex digits"
    for expectation in sc.expect.values():
        for entry in expectation.findings:
            assert entry.finding in all_detectors(), f"{name}: unknown detector {entry.finding}"


def test_suite_names_every_builtin_and_option_profile():
    named = {p for f in FILES for p in scenario(rel(f)).expect}
    assert {"legacy", "fixed", "hardened", "option1-no-fallback", "option2-guard-store",
            "option3-rebuild-on-mismatch"} <= named
