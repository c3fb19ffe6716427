"""The README's complete scenario example loads and meets its own expectations."""

from pathlib import Path

from callreplay.detectors.base import Severity
from callreplay.expectations import evaluate
from callreplay.scenario.load import load_scenario
from callreplay.testing import replay_findings

README = Path(__file__).resolve().parents[2] / "README.md"
START = "```yaml\nname: incident-inbound-gets-outbound-prompt"


def test_readme_scenario_example_passes(tmp_path):
    text = README.read_text(encoding="utf-8")
    begin = text.index(START) + len("```yaml\n")
    example = text[begin:text.index("```", begin)]
    (tmp_path / "example.yaml").write_text(example, encoding="utf-8")
    scenario = load_scenario(tmp_path / "example.yaml")
    assert set(scenario.expect) == {"legacy", "hardened"}
    for profile, expectation in scenario.expect.items():
        _, findings = replay_findings(scenario, profile)
        verdict = evaluate(expectation, profile, findings, Severity.ERROR)
        assert verdict.passed, (profile, [f.message for f in verdict.unexpected],
                                [e.as_dict() for e in verdict.entries if not e.met])
