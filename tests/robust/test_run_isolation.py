"""One broken scenario is an ERROR row and the rest run; Ctrl-C keeps what finished; no run selects nothing silently."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from callreplay import runner
from callreplay.cli import main
from callreplay.runner import RunInterrupted, RunOptions, run_all

from .helpers import GOOD, cli, write


def _good_and_bad(tmp_path):
    for i in range(3):
        write(tmp_path, f"good{i}.yaml", GOOD.replace("name: tiny", f"name: good{i}"))
    write(tmp_path, "bad-alias.yaml", "name: x\nsteps: &a [*a]\n")
    write(tmp_path, "bad-tag.yaml", "!!int\n")


def _interrupt_at(monkeypatch, n):
    """Ctrl-C arrives as the ``n``-th replay starts."""
    real, started = runner._run_item, []

    def interrupting(item, options):
        started.append(item)
        if len(started) == n:
            raise KeyboardInterrupt
        return real(item, options)

    monkeypatch.setattr(runner, "_run_item", interrupting)


def test_a_broken_scenario_is_an_error_row_and_the_others_run(tmp_path):
    _good_and_bad(tmp_path)
    outcomes = run_all([tmp_path], RunOptions(report_dir=tmp_path / "out"))
    statuses = sorted((o.file.rsplit("/", 1)[-1], o.status) for o in outcomes)
    assert statuses == [("bad-alias.yaml", "error"), ("bad-tag.yaml", "error"), ("good0.yaml", "pass"),
                        ("good1.yaml", "pass"), ("good2.yaml", "pass")]
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["totals"] == {"pass": 3, "fail": 0, "error": 2, "skipped": 0}
    errors = [e for e in run["results"] if e["status"] == "error"]
    assert all(e["result_file"] and (tmp_path / "out" / e["result_file"]).is_file() for e in errors)


def test_an_unforeseen_crash_in_one_replay_is_an_error_row(tmp_path, monkeypatch):
    _good_and_bad(tmp_path)
    real = runner.replay

    def crash_on_good1(scenario, profile, **kw):
        if scenario.name == "good1":
            raise TypeError("boom")
        return real(scenario, profile, **kw)

    monkeypatch.setattr(runner, "replay", crash_on_good1)
    outcomes = {o.scenario: o for o in run_all([tmp_path], RunOptions(report_dir=tmp_path / "out"))}
    assert outcomes["good1"].status == "error"
    assert "internal error while TypeError: boom" in outcomes["good1"].error
    assert outcomes["good0"].status == outcomes["good2"].status == "pass"


def test_ctrl_c_keeps_finished_results_and_marks_the_rest_not_run(tmp_path, monkeypatch):
    for i in range(4):
        write(tmp_path, f"s{i}.yaml", GOOD.replace("name: tiny", f"name: s{i}"))
    _interrupt_at(monkeypatch, 3)
    with pytest.raises(RunInterrupted) as info:
        run_all([tmp_path], RunOptions(report_dir=tmp_path / "out"))
    assert [o.status for o in info.value.outcomes] == ["pass", "pass", "skipped", "skipped"]
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["interrupted"] is True
    assert [e["status"] for e in run["results"]] == ["pass", "pass", "skipped", "skipped"]
    assert run["results"][2]["error"] == runner.NOT_RUN
    assert sorted(p.name for p in (tmp_path / "out" / "results").iterdir()) == ["s0--fixed.json", "s1--fixed.json"]


def test_ctrl_c_exits_130_with_an_index(tmp_path, monkeypatch):
    for i in range(3):
        write(tmp_path, f"s{i}.yaml", GOOD.replace("name: tiny", f"name: s{i}"))
    _interrupt_at(monkeypatch, 2)
    result = CliRunner().invoke(main, ["run", str(tmp_path), "--report-dir", str(tmp_path / "out"),
                                       "--json", str(tmp_path / "all.json")])
    assert result.exit_code == 130, result.output
    assert (tmp_path / "out" / "index.html").is_file()
    assert "1 passed, 0 failed, 0 errors, 2 skipped" in result.output
    assert len(json.loads((tmp_path / "all.json").read_text())["results"]) == 3


def test_no_temporary_files_are_left_behind(tmp_path):
    write(tmp_path, "s.yaml", GOOD)
    run_all([tmp_path], RunOptions(report_dir=tmp_path / "out"))
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]


def test_a_run_selecting_nothing_exits_5(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = cli("run", str(empty), "--report-dir", str(tmp_path / "out"))
    assert done.returncode == 5, done.stderr
    assert "no scenario selected" in done.stderr
    write(tmp_path, "s.yaml", GOOD)
    done = cli("run", str(tmp_path / "s.yaml"), "-k", "nomatch", "--report-dir", str(tmp_path / "out"))
    assert done.returncode == 5


def test_cli_exit_codes_stay_0_1_2_for_broken_input(tmp_path):
    write(tmp_path, "bad.yaml", "name: x\nsteps: &a [*a]\n")
    write(tmp_path, "good.yaml", GOOD)
    done = cli("run", str(tmp_path), "--report-dir", str(tmp_path / "out"), "--no-html")
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert "1 passed, 0 failed, 1 errors" in done.stdout
    done = cli("validate", str(tmp_path))
    assert done.returncode == 2
    assert "bad.yaml:2 steps[0]: an alias refers" in done.stderr
