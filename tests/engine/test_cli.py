"""The command line: exit codes, the one-line results, a broken file that does not stop the others."""

import json
from xml.etree import ElementTree

import pytest
import yaml
from click.testing import CliRunner

from callreplay.cli import main
from callreplay.testing import business, inbound_call

SID = "CA" + "1" * 32


def write(folder, name, data):
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def suite(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    write(scenarios, "contaminated.yaml", {
        "name": "contaminated", "tags": ["incident"], "businesses": [business(ai_prompt="")],
        "steps": inbound_call(talk="6s"),
        "expect": {"legacy": [{"finding": "direction-contamination", "call": SID}], "fixed": [
            {"finding": "missing-prompt"}]}})
    write(scenarios, "healthy.yaml", {"name": "healthy", "businesses": [business()], "steps": inbound_call(talk="6s"),
                                      "expect": {"hardened": "clean"}})
    return scenarios


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_passes_and_writes_reports(suite, tmp_path):
    out = tmp_path / "out"
    result = run("run", str(suite), "--report-dir", str(out), "--junit", str(tmp_path / "j.xml"),
                 "--json", str(tmp_path / "r.json"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("PASS  contaminated [legacy] 1 error")
    assert any(line.startswith("PASS  healthy [hardened] no findings") for line in lines)
    assert lines[-1] == "3 passed, 0 failed, 0 errors, 0 skipped"
    assert (out / "index.html").is_file() and (out / "run.json").is_file()
    cases = ElementTree.parse(tmp_path / "j.xml").getroot().findall("testcase")
    assert [c.get("name") for c in cases] == ["contaminated [legacy]", "contaminated [fixed]", "healthy [hardened]"]
    data = json.loads((tmp_path / "r.json").read_text())
    assert "direction-contamination" in {f["detector"] for f in data["results"][0]["findings"]}


def test_unmet_expectation_exits_1_and_explains(suite, tmp_path):
    result = run("run", str(suite / "contaminated.yaml"), "--pipeline", "hardened", "--report-dir", str(tmp_path / "o"))
    assert result.exit_code == 0  # no expectation for hardened: passes when nothing reaches the gate
    result = run("run", str(suite / "healthy.yaml"), "--pipeline", "legacy", "--report-dir", str(tmp_path / "o"),
                 "--fail-on", "info")
    assert result.exit_code == 0
    write(suite, "wrong.yaml", {"name": "wrong", "businesses": [business()], "steps": inbound_call(talk="6s"),
                                "expect": {"legacy": [{"finding": "direction-contamination", "call": SID}]}})
    result = run("run", str(suite / "wrong.yaml"), "--report-dir", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "  missing: direction-contamination on " + SID + ": expected at least 1, found 0" in result.output


def test_broken_scenario_exits_2_but_the_others_run(suite, tmp_path):
    (suite / "broken.yaml").write_text("name: broken\nsteps:\n  - {at: soon, cache: clear}\n", encoding="utf-8")
    result = run("run", str(suite), "--report-dir", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert f"ERROR {suite / 'broken.yaml'} [-]: {suite / 'broken.yaml'}:3 steps[0].at: \"soon\" is not a duration" \
        in result.output
    assert "3 passed, 0 failed, 1 errors, 0 skipped" in result.output


def test_filters_by_keyword_and_tag(suite, tmp_path):
    result = run("run", str(suite), "-k", "healthy", "--report-dir", str(tmp_path / "o"))
    assert "contaminated" not in result.output and "healthy [hardened]" in result.output
    result = run("run", str(suite), "--tag", "incident", "--report-dir", str(tmp_path / "o"))
    assert "healthy" not in result.output and "contaminated [legacy]" in result.output


def test_detector_override_and_bad_values(suite, tmp_path):
    result = run("run", str(suite / "contaminated.yaml"), "--report-dir", str(tmp_path / "o"),
                 "--detector", "direction-contamination=off")
    assert result.exit_code == 1  # the expected finding can no longer occur
    result = run("run", str(suite), "--detector", "nope=off")
    assert result.exit_code == 2 and "unknown detector 'nope'" in result.output
    result = run("run", str(suite), "--pipeline", "nightly")
    assert result.exit_code == 2 and "unknown profile 'nightly'" in result.output


def test_validate(suite):
    result = run("validate", str(suite))
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "2 valid, 0 invalid"
    (suite / "bad.yml").write_text("name: x\n", encoding="utf-8")
    result = run("validate", str(suite))
    assert result.exit_code == 2 and "'steps' is missing" in result.output


def test_report_rerenders_without_replaying(suite, tmp_path):
    out = tmp_path / "out"
    run("run", str(suite), "--report-dir", str(out))
    (out / "index.html").unlink()
    result = run("report", str(out))
    assert result.exit_code == 0 and (out / "index.html").is_file()
    assert run("report", str(tmp_path)).exit_code == 2


def test_listings_and_help():
    detectors = run("detectors").output.splitlines()
    ids = [line.split()[0] for line in detectors]
    assert len(ids) == 13 and ids == sorted(ids) and "direction-contamination" in ids
    assert "legacy" in run("profiles").output and "mutant-cache-key-no-direction" in run("profiles").output
    assert json.loads(run("schema").output)["title"] == "callreplay scenario"
    for command in ("run", "validate", "report", "detectors", "profiles", "schema"):
        assert run(command, "--help").exit_code == 0


def test_python_profile_in_a_scenario_does_not_run_unless_named(suite, tmp_path):
    write(suite, "code.yaml", {"name": "code", "businesses": [business()], "steps": inbound_call(talk="3s"),
                               "expect": {"os:system": "clean"}})
    result = run("run", str(suite / "code.yaml"), "--report-dir", str(tmp_path / "o"))
    assert "SKIP  code [os:system]: a Python profile runs only when named with --pipeline" in result.output


def test_parallel_jobs_write_the_same_results(suite, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    a = run("run", str(suite), "--report-dir", str(one), "--no-html")
    b = run("run", str(suite), "--report-dir", str(two), "--no-html", "-j", "2")
    assert a.exit_code == b.exit_code == 0
    assert [line for line in a.output.splitlines() if " in " not in line] == \
        [line for line in b.output.splitlines() if " in " not in line]
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file() and p.name != "run.json")
    assert files and all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
