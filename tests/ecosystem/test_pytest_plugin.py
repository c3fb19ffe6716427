"""The pytest plugin: shipped scenarios collected one item per CLI replay; failures, -k, -m, -x, JUnit, xdist."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from junitparser import JUnitXml

from callreplay.cli import main
from callreplay.runner import RunOptions, run_all

from .helpers import REPO, run_pytest, small_suite


class _Planned(Exception):
    pass


def _cli_replay_count(path) -> int:
    """How many replays ``callreplay run PATH`` performs: its plan, taken before any replay runs."""
    seen = []

    def stop(total: int) -> None:
        seen.append(total)
        raise _Planned

    with pytest.raises(_Planned):
        run_all([path], RunOptions(write=False), on_plan=stop)
    return seen[0]


def _collected(output: str) -> list[str]:
    return [line for line in output.splitlines() if "::" in line]


def test_shipped_scenarios_collect_one_item_per_cli_replay():
    proc = run_pytest("--callreplay", "scenarios", "--collect-only", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    items = _collected(proc.stdout)
    assert len(items) == _cli_replay_count(REPO / "scenarios") >= 100
    assert all(re.fullmatch(r"scenarios/\S+\.yaml::\S+\[\S+\]", item) for item in items), items[:3]
    assert "scenarios/incident/incident-inbound-gets-outbound-prompt.yaml::" \
           "incident-inbound-gets-outbound-prompt[option3-rebuild-on-mismatch]" in items


def test_nothing_is_collected_without_the_flag(tmp_path):
    suite = small_suite(tmp_path / "s")
    proc = run_pytest(str(suite), "--collect-only", "-q", cwd=tmp_path)
    assert proc.returncode == 5, proc.stdout  # pytest's "no tests collected"


def test_the_ini_option_marks_scenario_folders(tmp_path):
    suite = small_suite(tmp_path / "s")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.yaml").write_text("not: a scenario\n")
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\naddopts = --strict-markers\nfilterwarnings = error\ncallreplay_paths = s\n")
    proc = run_pytest(str(suite), str(tmp_path / "other"), "--collect-only", "-q", cwd=tmp_path, ini=ini)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(_collected(proc.stdout)) == 4 and "config" not in proc.stdout


def _outcomes(junit) -> dict[str, str]:
    return {f"{case.classname}::{case.name}": (type(case.result[0]).__name__ if case.result else "passed")
            for suite_ in JUnitXml.fromfile(str(junit)) for case in suite_}


def test_failures_print_the_findings_junit_parses_and_xdist_agrees(tmp_path):
    suite = small_suite(tmp_path / "s")
    (suite / "d-broken.yaml").write_text("name: broken\nsteps: []\nexpect: {legacy: [{finding: nope}]}\n")
    serial, parallel = tmp_path / "serial.xml", tmp_path / "parallel.xml"
    proc = run_pytest("--callreplay", str(suite), f"--junitxml={serial}", "-q", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 failed, 3 passed" in proc.stdout
    assert "FAIL  contaminated [legacy]" in proc.stdout
    assert "  expected clean" in proc.stdout
    assert "  unexpected: error direction-contamination CA111" in proc.stdout
    assert "unknown detector 'nope'" in proc.stdout
    cli = CliRunner().invoke(main, ["run", str(suite / "a-contaminated.yaml"), "--no-html", "--report-dir",
                                    str(tmp_path / "r")])
    explained = [line for line in cli.output.splitlines() if line.startswith("  ")]
    assert explained and all(line in proc.stdout.splitlines() for line in explained)  # the CLI's very lines
    cases = {case.name: case for suite_ in JUnitXml.fromfile(str(serial)) for case in suite_}
    assert set(cases) == {"contaminated[legacy]", "healthy[legacy]", "healthy[hardened]",
                          "contamination-expected[legacy]", "d-broken"}
    assert not cases["healthy[hardened]"].result
    assert "unexpected: error direction-contamination" in cases["contaminated[legacy]"].result[0].text

    workers = run_pytest("--callreplay", str(suite), "-n", "2", f"--junitxml={parallel}", "-q", cwd=tmp_path)
    assert workers.returncode == 1 and "bringing up nodes" in workers.stdout
    assert _outcomes(parallel) == _outcomes(serial)
    assert sorted(_outcomes(serial).values()) == ["Failure", "Failure", "passed", "passed", "passed"]


def test_k_and_m_select_like_any_test(tmp_path):
    suite = small_suite(tmp_path / "s")
    by_marker = _collected(run_pytest("--callreplay", str(suite), "-m", "smoke and not incident",
                                      "--collect-only", "-q", cwd=tmp_path).stdout)
    assert [i.split("::")[1] for i in by_marker] == ["healthy[legacy]", "healthy[hardened]"]
    by_keyword = _collected(run_pytest("--callreplay", str(suite), "-k", "hardened or contaminated",
                                       "--collect-only", "-q", cwd=tmp_path).stdout)
    assert [i.split("::")[1] for i in by_keyword] == ["contaminated[legacy]", "healthy[hardened]"]


def test_x_stops_at_the_first_failure(tmp_path):
    suite = small_suite(tmp_path / "s")
    proc = run_pytest("--callreplay", str(suite), "-x", "-q", cwd=tmp_path)
    assert proc.returncode == 1
    assert "1 failed" in proc.stdout and "passed" not in proc.stdout.splitlines()[-1]


def test_pipeline_option_replays_under_the_named_profiles_and_refuses_unknown_ones(tmp_path):
    suite = small_suite(tmp_path / "s")
    (tmp_path / "myprofiles.py").write_text(
        "from callreplay.pipeline.profiles import HARDENED\n\n"
        "Mine = HARDENED.with_(name='mine', summary='hardened, renamed')\n")
    proc = run_pytest("--callreplay", str(suite), "--callreplay-pipeline", "legacy",
                      "--callreplay-pipeline", "myprofiles:Mine", "--collect-only", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = [item.split("::")[1] for item in _collected(proc.stdout)]
    assert names[:2] == ["contaminated[legacy]", "contaminated[myprofiles:Mine]"] and len(names) == 6
    bad = run_pytest("--callreplay", str(suite), "--callreplay-pipeline", "legcy", "-q", cwd=tmp_path)
    assert bad.returncode == 4 and "--callreplay-pipeline: " in bad.stderr and "legcy" in bad.stderr
