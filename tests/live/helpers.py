"""Run ``callreplay exec`` against the example bridge in a subprocess and read back its JSON results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BRIDGE_SCENARIOS = ROOT / "examples" / "bridge" / "scenarios"
EXEC_TIMEOUT_S = 120


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
