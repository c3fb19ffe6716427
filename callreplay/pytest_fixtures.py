"""The ``callreplay_replay`` fixture: replay a scenario (a file, or one built in Python) and assert on it.

```python
def test_incident_is_contaminated(callreplay_replay):
    run = callreplay_replay("scenarios/incident/incident-inbound-gets-outbound-prompt.yaml", "legacy")
    assert run.count("direction-contamination") == 3
    run.assert_expectations()          # the scenario's own expect: for that profile
```

A mapping is written to the test's temporary folder and loaded through the real loader, so a
scenario built in code is checked exactly as a file would be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .detectors import run_detectors
from .detectors.base import Finding, Severity
from .expectations import Verdict, evaluate
from .replay import ReplayResult, replay
from .scenario.load import load_scenario
from .scenario.model import Scenario
from .trace import Trace


@dataclass
class ReplayRun:
    """A replay with its findings and the verdict of the scenario's own ``expect`` for the profile."""

    result: ReplayResult
    findings: list[Finding]
    verdict: Verdict

    @property
    def trace(self) -> Trace:
        return self.result.trace

    @property
    def passed(self) -> bool:
        return self.verdict.passed

    def of(self, detector: str, call: str | None = None) -> list[Finding]:
        """The findings of one detector (optionally on one call)."""
        return [f for f in self.findings if f.detector == detector and call in (None, f.call)]

    def count(self, detector: str, call: str | None = None) -> int:
        return len(self.of(detector, call))

    def assert_expectations(self) -> None:
        """Fail with the CLI's missing/unexpected lines when the scenario's expectation is not met."""
        if self.verdict.passed:
            return
        from .outcome import Outcome
        from .summary import failure_lines

        outcome = Outcome(str(self.result.scenario.file), self.result.scenario.name, self.result.profile.name, "fail",
                          self.findings, self.verdict)
        pytest.fail("\n".join([f"{outcome.scenario} [{outcome.profile}] did not meet its expectation",
                               *failure_lines(outcome)]), pytrace=False)


class Replayer:
    """What the fixture returns: call it with a scenario and a profile."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._written = 0

    def load(self, scenario: Scenario | str | Path | Mapping[str, Any]) -> Scenario:
        if isinstance(scenario, Scenario):
            return scenario
        if isinstance(scenario, Mapping):
            from .testing import scenario_from_dict

            self._written += 1
            return scenario_from_dict(dict(scenario), self.folder, f"scenario-{self._written}.yaml")
        return load_scenario(Path(scenario))

    def __call__(self, scenario: Scenario | str | Path | Mapping[str, Any], profile: str = "fixed", *,
                 fail_on: str = "error", detectors: Mapping[str, str] | None = None) -> ReplayRun:
        loaded = self.load(scenario)
        result = replay(loaded, profile, allow_code=True)
        findings = run_detectors(result, dict(detectors or {}))
        verdict = evaluate(loaded.expect.get(profile), profile, findings, Severity(fail_on), result.trace)
        return ReplayRun(result, findings, verdict)


@pytest.fixture
def callreplay_replay(tmp_path: Path) -> Replayer:
    """Replay scenario files or mappings under a profile; returns a :class:`ReplayRun` per call."""
    return Replayer(tmp_path)
