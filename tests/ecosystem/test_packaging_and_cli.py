"""Packaging metadata (setup.cfg), --version and shell completion through _CALLREPLAY_COMPLETE."""

from __future__ import annotations

import configparser
import importlib
import os
import subprocess
import sys

from click.testing import CliRunner

import callreplay
from callreplay.cli import main

from .helpers import REPO


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg", encoding="utf-8")
    return parser


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def test_classifiers_name_the_python_this_suite_runs_on_and_typing():
    cfg = _setup_cfg()
    classifiers = _lines(cfg["metadata"]["classifiers"])
    assert f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}" in classifiers
    assert {"Typing :: Typed", "Framework :: Pytest"} <= set(classifiers)
    versions = [c.rsplit(" ", 1)[1] for c in classifiers if c.startswith("Programming Language :: Python :: 3.")]
    required = cfg["options"]["python_requires"].strip().removeprefix(">=")
    assert min(versions, key=lambda v: tuple(map(int, v.split(".")))) == required


def test_py_typed_ships_and_the_pytest_plugin_is_registered():
    cfg = _setup_cfg()
    assert "py.typed" in _lines(cfg["options.package_data"]["callreplay"])
    assert (REPO / "callreplay" / "py.typed").is_file()
    (entry,) = _lines(cfg["options.entry_points"]["pytest11"])
    name, _, module = (part.strip() for part in entry.partition("="))
    assert name == module == "callreplay.pytest_plugin"  # the name -p uses: loading it twice is a no-op
    assert hasattr(importlib.import_module(module), "pytest_addoption")
    requires = " ".join(_lines(cfg["options"]["install_requires"]))
    assert all(dep in requires for dep in ("ruamel.yaml>=", "soundfile>=", "junitparser>="))
    assert "pytest-xdist>=" in cfg["options.extras_require"]["test"]


def test_version_option():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output == f"callreplay, version {callreplay.__version__}\n"


def test_shell_completion_through_the_documented_variable():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "_CALLREPLAY_COMPLETE": "bash_complete", "COMP_WORDS": "callreplay va", "COMP_CWORD": "1"}
    proc = subprocess.run([sys.executable, "-m", "callreplay"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "plain,validate"
    env["_CALLREPLAY_COMPLETE"] = "bash_source"
    proc = subprocess.run([sys.executable, "-m", "callreplay"], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert "_callreplay_completion()" in proc.stdout and "complete -o nosort -F _callreplay_completion callreplay" \
        in proc.stdout
