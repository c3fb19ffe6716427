"""Run ``callreplay exec`` against the example bridge in a subprocess and read back its JSON results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
BRIDGE_SCENARIOS = ROOT / "examples" / "bridge" / "scenarios"
EXEC_TIMEOUT_S = 120
T = TypeVar("T")


def cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a ``callreplay`` subprocess: the repository importable, no inherited target."""
    full_env = {k: v for k, v in os.environ.items() if k != "CALLREPLAY_TARGET"}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return full_env


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "callreplay", *args], cwd=cwd, env=cli_env(env), capture_output=True,
                          text=True, timeout=EXEC_TIMEOUT_S)


def exec_bridge(tmp: Path, *scenarios: str, bugs: str = "", extra: tuple[str, ...] = ()) -> tuple[int, dict, str]:
    """(exit code, {scenario name: result}, output) of one live run against a freshly started bridge."""
    out = tmp / f"run-{bugs or 'healthy'}.json"
    args = ["exec", "--report-dir", str(tmp / "reports"), "--no-html", "--json", str(out), *extra]
    for name in scenarios:
        args += ["-s", str(BRIDGE_SCENARIOS / name)]
    args += ["--", sys.executable, "-m", "examples.bridge"]
    done = run_cli(*args, env={"BRIDGE_BUGS": bugs})
    results = {r["scenario"]: r for r in json.loads(out.read_text())["results"]} if out.exists() else {}
    return done.returncode, results, done.stdout + done.stderr


def findings(result: dict, detector: str) -> list[dict]:
    return [f for f in result["findings"] if f["detector"] == detector]


class LiveRuns:
    """A test module's live runs, started in the background together (``at_a_time`` at once, in the order given);
    each test waits for the runs it reads.

    A live run mostly waits on the wall clock, so a module's runs overlap instead of queueing test after test.
    Each has its own folder (``folders[name]``), its own freshly started server and its own ports.
    """

    def __init__(self, folder: Path, runs: dict[str, Callable[[Path], Any]], at_a_time: int = 3) -> None:
        self.folders = {name: folder / name for name in runs}
        self._pool = ThreadPoolExecutor(max_workers=at_a_time)
        self._futures = {name: self._pool.submit(run, self.folders[name]) for name, run in runs.items()}

    def __getitem__(self, name: str) -> Any:
        return self._futures[name].result(timeout=EXEC_TIMEOUT_S * 2)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def at_once(*runs: Callable[[], T]) -> list[T]:
    """Each run's result, in order, the runs started together.

    A live run spends most of its time waiting on the wall clock (the scenario's own seconds), so a test's
    independent runs, each against its own freshly started server on its own ports, overlap instead of queueing.
    """
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        return [future.result() for future in [pool.submit(run) for run in runs]]


def shortened(scenario: Path, folder: Path, media_for: str, stop_at: str) -> Path:
    """A copy of a one-call scenario whose audio lasts ``media_for`` and whose stream stops at ``stop_at``.

    What a live test checks is decided in a call's first seconds (the prompt sent, the first frames); the rest of
    a shipped scenario's half minute of audio only costs wall time.
    """
    data = yaml.safe_load(scenario.read_text())
    for step in data["steps"]:
        if "for" in step:
            step["for"] = media_for
        if step.get("ws") == "stop":
            step["at"] = stop_at
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / scenario.name
    copy.write_text(yaml.safe_dump(data, sort_keys=False))
    return copy
