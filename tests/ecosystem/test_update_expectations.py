"""--callreplay-update / run --update-expectations: only expect.<profile> changes, byte for byte elsewhere."""

from __future__ import annotations

from click.testing import CliRunner

from callreplay.cli import main
from callreplay.scenario.load import load_scenario
from callreplay.testing import INBOUND_SID

from .helpers import run_pytest

COMMENTED = f"""# An imported capture: the first call of the incident, trimmed.
name: commented-capture   # kept as written
description: >
  Inbound call answered with the outbound script.
tags: [incident, imported]
clock: {{start: "2026-01-08T10:00:00+02:00", timezone: Asia/Jerusalem}}

businesses:
  - id: 1
    name: "מרפאת השיניים"      # quoted on purpose
    phone: '+97231234567'
    greeting: שלום, איך אפשר לעזור?
    settings:
      ai_prompt: ""
      outbound_ai_prompt: "אתה מתקשר מטעם {{{{business_name}}}} כדי להציע חבילת שירות חדשה ללקוח."

steps:
  - {{at: 0s, webhook: incoming_call, params: {{CallSid: {INBOUND_SID}, From: "+972501234567", To: "+97231234567", Direction: inbound}}}}
  - {{at: 800ms, call: {INBOUND_SID}, ws: connected}}
  - {{at: 820ms, call: {INBOUND_SID}, ws: start}}
  - at: 840ms
    call: {INBOUND_SID}
    ws: {{media: [{{speech: {{duration: 3s, rms: 1500}}}}, {{silence: 2s}}]}}
    for: 3s
  - {{at: 3.9s, call: {INBOUND_SID}, ws: stop}}

expect:
  # what legacy did when this was captured (out of date: written before the fallback was found)
  legacy:
    - {{finding: missing-prompt}}     # stale entry, replaced by the update
    - {{metric: first-model-audio, within: 1.5s}}

  # the hardened profile must stay silent
  hardened: clean
detectors:
  missing-prompt: info   # a trailing comment
"""

NEW_LEGACY_BLOCK = f"""  legacy:
    - {{finding: cross-direction-fallback, call: {INBOUND_SID}}}
    - {{finding: direction-contamination, call: {INBOUND_SID}}}
    - {{metric: first-model-audio, within: 1.5s}}
"""


def _split(text: str, block_start: str) -> tuple[str, str]:
    head, _, rest = text.partition(block_start)
    return head, rest


def test_the_update_flag_rewrites_only_the_failing_block(tmp_path):
    path = tmp_path / "capture.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    updated = run_pytest("--callreplay", str(path), "--callreplay-update", "-q", cwd=tmp_path)
    assert updated.returncode == 0, updated.stdout
    assert "callreplay: 1 expectation(s) updated" in updated.stdout
    text = path.read_text(encoding="utf-8")
    before = COMMENTED.split("  legacy:\n")[0]
    after = "\n  # the hardened profile must stay silent\n" + COMMENTED.split("# the hardened profile must stay silent\n")[1]
    assert text == before + NEW_LEGACY_BLOCK + after

    assert f"updated: {path} [legacy]" in updated.stdout
    again = run_pytest("--callreplay", str(path), "-q", cwd=tmp_path)  # passes now, and nothing is rewritten
    assert again.returncode == 0 and "updated" not in again.stdout
    assert path.read_text(encoding="utf-8") == text
    assert load_scenario(path).expect["legacy"].latency[0].within_us == 1_500_000


def test_run_update_expectations_adds_a_profile_block_and_passes(tmp_path):
    path = tmp_path / "capture.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    runner = CliRunner()
    args = ["run", str(path), "--pipeline", "option3-rebuild-on-mismatch", "--no-html", "--report-dir",
            str(tmp_path / "r")]
    assert runner.invoke(main, args).exit_code == 1
    result = runner.invoke(main, [*args, "--update-expectations"])
    assert result.exit_code == 0, result.output
    assert f"updated: {path} expect.option3-rebuild-on-mismatch" in result.output
    head, tail = COMMENTED.split("detectors:\n")
    assert path.read_text(encoding="utf-8") == head + (
        "  option3-rebuild-on-mismatch:\n"
        f"    - {{finding: cross-direction-fallback, call: {INBOUND_SID}}}\n"
        f"    - {{finding: direction-contamination, call: {INBOUND_SID}}}\n") + "detectors:\n" + tail
    assert runner.invoke(main, args).exit_code == 0


def test_without_the_flag_nothing_is_rewritten(tmp_path):
    path = tmp_path / "capture.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "--no-html", "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert path.read_text(encoding="utf-8") == COMMENTED


def _findings():
    from callreplay.detectors.base import Finding, Severity

    return [Finding("cross-direction-fallback", Severity.WARNING, INBOUND_SID, 50_000, "fell back"),
            Finding("missing-prompt", Severity.INFO, INBOUND_SID, 60_000, "info only, not written"),
            Finding("direction-contamination", Severity.ERROR, INBOUND_SID, 1_000_000, "bound"),
            Finding("direction-contamination", Severity.ERROR, INBOUND_SID, 2_000_000, "bound again")]


def test_a_file_without_expect_gets_one_at_the_end(tmp_path):
    from callreplay.update_expectations import update_expectation

    path = tmp_path / "s.yaml"
    text = COMMENTED.split("expect:\n")[0] + "# the end\n"
    path.write_text(text, encoding="utf-8")
    update = update_expectation(path, "legacy", _findings())
    assert update.changed
    assert path.read_text(encoding="utf-8") == text + (
        "expect:\n  legacy:\n"
        f"    - {{finding: cross-direction-fallback, call: {INBOUND_SID}}}\n"
        f"    - {{finding: direction-contamination, call: {INBOUND_SID}, at_least: 2}}\n")
    assert update_expectation(path, "hardened", []).block == "  hardened: clean\n"
    assert load_scenario(path).expect["hardened"].clean


def test_a_flow_style_expect_is_refused_with_a_located_error(tmp_path):
    import pytest

    from callreplay.errors import ScenarioError
    from callreplay.update_expectations import update_expectation

    path = tmp_path / "s.yaml"
    text = COMMENTED.split("expect:\n")[0] + "expect: {legacy: clean}\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        update_expectation(path, "legacy", _findings())
    assert "s.yaml:27 expect: is written in flow style, or is not a mapping (expected one profile per line" \
        in str(error.value)
    assert path.read_text(encoding="utf-8") == text


def test_a_missed_latency_bound_is_kept_and_still_fails_after_the_update(tmp_path):
    path = tmp_path / "capture.yaml"
    path.write_text(COMMENTED.replace("within: 1.5s", "within: 100ms"), encoding="utf-8")
    args = ["run", str(path), "--pipeline", "legacy", "--no-html", "--report-dir", str(tmp_path / "r")]
    result = CliRunner().invoke(main, [*args, "--update-expectations"])
    assert result.exit_code == 1 and f"updated: {path} expect.legacy" in result.output
    assert "latency: first-model-audio on CA1" in result.output
    assert "    - {metric: first-model-audio, within: 100ms}\n" in path.read_text(encoding="utf-8")


def test_under_fail_on_info_the_infos_are_written_too(tmp_path):
    from callreplay.detectors.base import Severity
    from callreplay.update_expectations import expectation_entries

    assert [e["finding"] for e in expectation_entries(_findings())] == ["cross-direction-fallback",
                                                                        "direction-contamination"]
    assert [e["finding"] for e in expectation_entries(_findings(), Severity.INFO)] == [
        "cross-direction-fallback", "missing-prompt", "direction-contamination"]
