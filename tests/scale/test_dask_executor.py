"""The Dask executor gives byte-identical results to a local run, and side files travel with the task."""

import shutil
from pathlib import Path

import pytest

from callreplay.executors import ExecutorError, parse_executor, run_shipped, ship
from callreplay.runner import RunOptions, _run_item, run_all
from callreplay.testing import CALLER, INBOUND_SID, business, inbound_call, scenario_from_dict, write_recording

ROOT = Path(__file__).resolve().parents[2]
distributed = pytest.importorskip("distributed")


def _recorded_scenario(folder: Path):
    write_recording(folder / "call.jsonl", 500, speech_us=1_000_000, silence_us=0, seed=5)
    steps = [
        {"at": 0, "webhook": "incoming_call", "params": {"CallSid": INBOUND_SID, "From": CALLER, "To": "+97231234567",
                                                        "Direction": "inbound"}},
        {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
        {"at": 0.84, "call": INBOUND_SID, "ws": {"media": {"recording": "call.jsonl"}}},
        {"at": 12, "call": INBOUND_SID, "ws": "stop"},
    ]
    return scenario_from_dict({"name": "recorded", "businesses": [business()], "steps": steps,
                               "expect": {"fixed": "clean", "legacy": "clean"}}, folder, "recorded.yaml")


@pytest.fixture
def suite(tmp_path):
    folder = tmp_path / "suite"
    shutil.copytree(ROOT / "scenarios" / "race", folder / "race")
    shutil.copy(ROOT / "scenarios" / "audio" / "network-faults.yaml", folder)
    (folder / "rec").mkdir()
    _recorded_scenario(folder / "rec")
    scenario_from_dict({"name": "short", "businesses": [business()], "steps": inbound_call(talk="10s")},
                       folder, "short.yaml")
    return folder


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.parent.name in ("traces", "results")}


def test_dask_local_cluster_writes_what_a_local_run_writes(suite, tmp_path):
    local_dir, dask_dir = tmp_path / "local", tmp_path / "dask"
    local = run_all([suite], RunOptions(report_dir=local_dir))
    # two worker processes, two threads each: replays in one process must still not share the frozen clock
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        address = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        remote = run_all([suite], RunOptions(report_dir=dask_dir, executor=address))
    assert [(o.scenario, o.profile, o.status) for o in remote] == [(o.scenario, o.profile, o.status) for o in local]
    assert any(o.scenario == "recorded" and o.status == "pass" for o in remote)
    expected = _files(local_dir)
    assert len(expected) > 10
    assert _files(dask_dir) == expected


def test_side_files_travel_with_the_task(tmp_path):
    folder = tmp_path / "origin"
    folder.mkdir()
    scenario = _recorded_scenario(folder)
    options = RunOptions(report_dir=tmp_path / "unused")
    shipped = ship((scenario, "fixed", None, "recorded--fixed"))
    assert list(shipped.files) == [str(folder / "call.jsonl")]
    local_outcome, local_trace = run_shipped(shipped, options, _run_item)
    shutil.rmtree(folder)  # a worker on another machine has no copy of the scenario's folder
    outcome, trace = run_shipped(shipped, options, _run_item)
    assert outcome.status == "pass" and outcome.result["calls"][0]["counters"]["rx"] == 500
    assert trace == local_trace and trace.count("realtime.audio_append") > 0
    assert not (tmp_path / "unused").exists()  # the worker wrote nothing outside its temporary folder


@pytest.mark.parametrize("text", ["dask://", "dask://host", "dask://host:0", "tcp://127.0.0.1:8786", "ray"])
def test_bad_executor_values_are_clear_errors(text):
    with pytest.raises(ExecutorError, match="expected 'local' or 'dask://HOST:PORT'"):
        parse_executor(text)


def test_cli_reports_a_bad_or_absent_executor_in_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import callreplay.executors as executors
    from callreplay.cli import main

    scenario_from_dict({"name": "short", "businesses": [business()], "steps": inbound_call(talk="2s")},
                       tmp_path, "short.yaml")
    runner = CliRunner()
    bad = runner.invoke(main, ["run", str(tmp_path / "short.yaml"), "--executor", "spark://x"])
    assert bad.exit_code == 2 and "--executor" in bad.output and "dask://HOST:PORT" in bad.output
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    absent = runner.invoke(main, ["run", str(tmp_path / "short.yaml"), "--report-dir", str(tmp_path / "r"),
                                  "--executor", "dask://127.0.0.1:9"])
    assert absent.exit_code == 2, absent.output
    assert "no Dask scheduler answers at dask://127.0.0.1:9" in absent.output
    assert "Traceback" not in absent.output
