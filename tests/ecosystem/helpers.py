"""Running pytest with the callreplay plugin in a subprocess, and small scenario files to run it on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from callreplay.testing import INBOUND_SID, business, inbound_call

REPO = Path(__file__).resolve().parents[2]


def run_pytest(*args: str, cwd: Path | None = None, ini: Path | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m pytest -p callreplay.pytest_plugin ARGS`` with the project's ini (or ``ini``), importing this tree."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    quiet_plugins = ["-p", "no:benchmark", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio"]
    command = [sys.executable, "-m", "pytest", "-p", "callreplay.pytest_plugin", *quiet_plugins,
               "-c", str(ini or REPO / "setup.cfg"), "--rootdir", str(cwd or REPO), *args]
    return subprocess.run(command, cwd=cwd or REPO, env=env, capture_output=True, text=True, timeout=timeout)


def write_scenario(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def small_suite(folder: Path) -> Path:
    """Three short scenarios: one failing (tag ``regression``), two passing (tag ``smoke``), 4 replays."""
    folder.mkdir(parents=True, exist_ok=True)
    write_scenario(folder, "a-contaminated.yaml", {
        "name": "contaminated", "tags": ["regression"], "businesses": [business(ai_prompt="")],
        "steps": inbound_call(talk="3s"), "expect": {"legacy": "clean"}})
    write_scenario(folder, "b-healthy.yaml", {
        "name": "healthy", "tags": ["smoke"], "businesses": [business()], "steps": inbound_call(talk="3s"),
        "expect": {"legacy": "clean", "hardened": "clean"}})
    write_scenario(folder, "c-contamination-expected.yaml", {
        "name": "contamination-expected", "tags": ["smoke", "incident"], "businesses": [business(ai_prompt="")],
        "steps": inbound_call(talk="3s"),
        "expect": {"legacy": [{"finding": "direction-contamination", "call": INBOUND_SID},
                              {"finding": "cross-direction-fallback"}]}})
    return folder
