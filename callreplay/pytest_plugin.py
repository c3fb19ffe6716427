"""The pytest plugin: scenario files as tests, one item per scenario and profile, plus fixtures.

Registered under the ``pytest11`` entry point, so installing callreplay is enough:
``pytest --callreplay scenarios/`` collects every ``*.yaml``/``*.yml`` under the given paths (the
ini option ``callreplay_paths`` marks folders whose files are scenarios without the flag). Items
are named ``<scenario>[<profile>]`` and carry the scenario's tags as markers, so ``-k``, ``-m``,
``-x``, ``--junitxml`` and pytest-xdist work as on any test; a failure prints the CLI's missing and
unexpected findings with their evidence. ``--callreplay-update`` writes what a failing replay
found into the scenario's ``expect:`` for that profile instead of failing.

Fixtures live in the modules of :data:`FIXTURE_MODULES`, registered as plugins of their own, so a
new fixture (e.g. live mode's ``callreplay_target``) is one more module in that tuple.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .detectors.base import Severity
from .errors import CallReplayError
from .outcome import Outcome
from .results import slugify
from .runner import RunOptions, profiles_for, run_one
from .scenario.load import load_scenario
from .scenario.model import Scenario
from .summary import failure_lines, outcome_line

FIXTURE_MODULES = ("callreplay.pytest_fixtures", "callreplay.pytest_live")
SCENARIO_SUFFIXES = (".yaml", ".yml")
UPDATED_PROPERTY = "callreplay_updated"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("callreplay", "callreplay scenarios as tests")
    group.addoption("--callreplay", action="store_true", default=False,
                    help="Collect scenario files (*.yaml, *.yml) under the given paths as tests.")
    group.addoption("--callreplay-pipeline", action="append", default=[], metavar="NAME",
                    help="Profile to replay under (repeatable). Default: the profiles each scenario's expect "
                         "names, else 'fixed'.")
    group.addoption("--callreplay-fail-on", choices=["error", "warning", "info"], default="error",
                    help="Unexpected findings at or above this severity fail a scenario (default: error).")
    group.addoption("--callreplay-update", action="store_true", default=False,
                    help="Write what a failing replay found into the scenario's expect: for that profile "
                         "(comments and formatting kept) instead of failing.")
    parser.addini("callreplay_paths", type="paths", default=[],
                  help="Folders (or files) whose *.yaml/*.yml files are callreplay scenarios; collected "
                       "without --callreplay when pytest visits them.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "callreplay: a callreplay scenario replayed under one profile")
    for name in FIXTURE_MODULES:
        if not config.pluginmanager.has_plugin(name):
            config.pluginmanager.register(importlib.import_module(name), name)
    _check_profiles(config)


def _check_profiles(config: pytest.Config) -> None:
    """A bad ``--callreplay-pipeline`` is a usage error, said once, not one failure per item."""
    from .pipeline.profiles import load_profile

    names = config.getoption("callreplay_pipeline")
    if any(":" in name for name in names) and str(config.rootpath) not in sys.path:
        sys.path.insert(0, str(config.rootpath))  # like the CLI: a named profile module in the project imports
    for name in names:
        try:
            load_profile(name, allow_code=True)
        except CallReplayError as exc:
            raise pytest.UsageError(f"--callreplay-pipeline: {exc}") from None


def _is_scenario_path(file_path: Path, config: pytest.Config) -> bool:
    if file_path.suffix not in SCENARIO_SUFFIXES:
        return False
    if config.getoption("callreplay"):
        return True
    resolved = file_path.resolve()
    for root in config.getini("callreplay_paths"):
        root = Path(root).resolve()
        if resolved == root or root in resolved.parents:
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_scenario_path(file_path, parent.config):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _run_options(config: pytest.Config) -> RunOptions:
    return RunOptions(profiles=list(config.getoption("callreplay_pipeline")),
                      fail_on=Severity(config.getoption("callreplay_fail_on")), write=False)


def _register_tag_markers(config: pytest.Config, tags: tuple[str, ...]) -> None:
    """Tags become markers; registering them keeps ``--strict-markers`` (and ``-m TAG``) working."""
    known = {line.split(":")[0].strip() for line in config.getini("markers")}
    for tag in tags:
        if tag not in known:
            config.addinivalue_line("markers", f"{tag}: callreplay scenario tag")


class ScenarioFile(pytest.File):
    """One scenario file: an item per profile, or one failing item when the file does not load."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except CallReplayError as exc:
            yield BrokenScenarioItem.from_parent(self, name=self.path.stem, error=str(exc))
            return
        options = _run_options(self.config)
        _register_tag_markers(self.config, scenario.tags)
        seen: set[str] = set()
        for profile, skip in profiles_for(scenario, options):
            if profile in seen:
                continue
            seen.add(profile)
            item = ScenarioItem.from_parent(self, name=f"{scenario.name}[{profile}]", scenario=scenario,
                                            profile=profile, skip_reason=skip)
            item.add_marker("callreplay")
            for tag in scenario.tags:
                item.add_marker(tag)
            yield item


class ScenarioFailed(Exception):
    """A replay that did not meet its expectation; carries the outcome for the failure report."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome_line(outcome))
        self.outcome = outcome


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, profile: str, skip_reason: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.profile = profile
        self.skip_reason = skip_reason

    def runtest(self) -> None:
        if self.skip_reason:
            pytest.skip(self.skip_reason)
        slug = slugify(self.scenario.name) + "--" + slugify(self.profile)
        options = _run_options(self.config)
        outcome = run_one(self.scenario, self.profile, options, slug)
        if outcome.status == "error":
            raise ScenarioFailed(outcome)
        if outcome.status == "fail" and self.config.getoption("callreplay_update"):
            from .update_expectations import latency_unmet, update_expectation

            update = update_expectation(self.scenario.file, self.profile, outcome.findings, options.fail_on)
            self.user_properties.append((UPDATED_PROPERTY, f"{self.scenario.file} [{self.profile}]"))
            self.add_report_section("call", "callreplay", f"updated expect.{self.profile}:\n{update.block}")
            if not latency_unmet(outcome.verdict):
                return
        if outcome.status == "fail":
            raise ScenarioFailed(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            o = excinfo.value.outcome
            return "\n".join([outcome_line(o), *failure_lines(o)])
        if isinstance(excinfo.value, CallReplayError):  # e.g. --callreplay-update refused to rewrite a file
            return f"ERROR {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.scenario.name} [{self.profile}]"


class BrokenScenarioItem(pytest.Item):
    """A scenario file that does not load: one failing item with the loader's located message."""

    def __init__(self, *, error: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise CallReplayError(self.error)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"ERROR {self.error}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    updated = sorted({str(value) for report in terminalreporter.stats.get("passed", [])
                      for key, value in getattr(report, "user_properties", []) if key == UPDATED_PROPERTY})
    if updated:
        terminalreporter.write_sep("-", f"callreplay: {len(updated)} expectation(s) updated")
        for line in updated:
            terminalreporter.write_line(f"updated: {line}")
