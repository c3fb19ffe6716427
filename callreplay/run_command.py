"""What ``callreplay run`` (and ``exec``) do once the options are parsed: the run, its lines, its exit code.

Exit codes: 0 every expectation met, 1 a replay failed its expectation, 2 a usage or input error
(a scenario that does not load, an unknown profile or detector), 5 nothing was selected, 130
interrupted by Ctrl-C. Kept apart from the command
definitions so ``exec`` can run the same thing without importing the whole CLI.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from .detectors import all_detectors
from .detectors.base import Severity
from .errors import CallReplayError
from .pipeline.profiles import load_profile

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_NOTHING_SELECTED, EXIT_INTERRUPTED = 0, 1, 2, 5, 130


def _detector_settings(values: tuple[str, ...]) -> dict[str, str]:
    known = all_detectors()
    settings = {}
    for value in values:
        name, sep, level = value.partition("=")
        if not sep or level not in ("off", "error", "warning", "info"):
            raise click.BadParameter(f"{value!r}: expected ID=off|error|warning|info", param_hint="--detector")
        if name not in known:
            raise click.BadParameter(f"unknown detector {name!r}; known: {', '.join(known)}", param_hint="--detector")
        settings[name] = level
    return settings


def _executor(value: str) -> str:
    from .executors import ExecutorError, parse_executor

    try:
        return parse_executor(value)
    except ExecutorError as exc:
        raise click.BadParameter(str(exc), param_hint="--executor") from None


def _run_command(paths, profiles, report_dir, fail_on, detectors, keyword, tags, junit, json_out, show_pii, no_html,
                 jobs, quiet, verbose, live, executor="local", update_expectations=False) -> None:
    from .atomic_write import write_text_atomic
    from .executors import ExecutorError
    from .runner import RunInterrupted, RunOptions, aggregate_json, run_all
    from .summary import failure_lines, not_run_lines, outcome_line

    if any(":" in name for name in profiles):
        _importable_from_cwd()
    for name in profiles:
        try:
            load_profile(name, allow_code=True)
        except CallReplayError as exc:
            raise click.BadParameter(str(exc), param_hint="--pipeline") from None
    options = RunOptions(profiles=list(profiles), fail_on=Severity(fail_on),
                         detector_settings=_detector_settings(detectors), report_dir=report_dir, keyword=keyword,
                         tags=list(tags), show_pii=show_pii, jobs=jobs, live=live, executor=_executor(executor))
    progress = _Progress(enabled=sys.stdout.isatty() and quiet == 0)

    def show(outcome) -> None:
        progress.advance(outcome)
        if quiet and outcome.status == "pass":
            progress.echo_bar_only()
            return
        progress.echo(outcome_line(outcome))
        if outcome.status == "fail":
            for line in failure_lines(outcome):
                progress.echo(line)
        if verbose:
            for f in outcome.findings:
                progress.echo(f"    {f.severity.value:7} {f.detector} {f.call or '-'}: {f.message}")
            for line in not_run_lines(outcome):
                progress.echo(line)

    command = "callreplay " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    interrupted = False
    try:
        outcomes = run_all(list(paths), options, on_outcome=show, on_plan=progress.plan, command=command,
                           on_announce=progress.echo if quiet < 2 else None)
    except ExecutorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    except RunInterrupted as stop:
        outcomes, interrupted = stop.outcomes, True
    progress.close()
    if interrupted:
        click.echo("interrupted: finished replays are kept, the rest are marked not run", err=True)
    elif not outcomes:
        click.echo("no scenario selected (no *.yaml under the paths, or -k/--tag matched none)", err=True)
        sys.exit(EXIT_NOTHING_SELECTED)
    if not no_html:
        from .report import render_reports

        index = render_reports(report_dir, show_pii=show_pii)
        if quiet < 2:
            click.echo(f"report: {index}")
    if junit:
        from .junit import junit_xml

        write_text_atomic(junit, junit_xml(outcomes, show_pii=show_pii))
    if json_out:
        write_text_atomic(json_out, aggregate_json(outcomes, show_pii))
    if update_expectations:
        outcomes = _update_expectations(outcomes, Severity(fail_on))
    totals = {s: sum(o.status == s for o in outcomes) for s in ("pass", "fail", "error", "skipped")}
    click.echo(f"{totals['pass']} passed, {totals['fail']} failed, {totals['error']} errors, "
               f"{totals['skipped']} skipped")
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if totals["error"]:
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FAILED if totals["fail"] else EXIT_OK)


def _update_expectations(outcomes: list, fail_on: Severity) -> list:
    """``--update-expectations``: rewrite the expect: of each failed replay; updated ones count as passed
    (unless a latency bound, which an update keeps, was missed)."""
    from dataclasses import replace

    from .update_expectations import latency_unmet, update_expectation

    out = []
    for outcome in outcomes:
        if outcome.status == "fail":
            try:
                update_expectation(Path(outcome.file), outcome.profile, outcome.findings, fail_on)
            except CallReplayError as exc:
                click.echo(f"error: cannot update {outcome.file} [{outcome.profile}]: {exc}", err=True)
                out.append(replace(outcome, status="error", error=str(exc)))
                continue
            click.echo(f"updated: {outcome.file} expect.{outcome.profile}")
            if not latency_unmet(outcome.verdict):
                outcome = replace(outcome, status="pass")
        out.append(outcome)
    return out


def _importable_from_cwd() -> None:
    """Like ``python -m``: a profile module in the working directory imports (``--pipeline myteam.profiles:X``).

    The console script's ``sys.path`` starts with the script's folder, not the working directory;
    only the command line, where the user named code on purpose, widens it.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


class _Progress:
    """On a terminal, a bar under the result lines (replays done, calls, virtual minutes); plain lines otherwise."""

    WIDTH = 30

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.total = 0
        self.done = self.calls = 0
        self.virtual_us = 0

    def plan(self, total: int) -> None:
        self.total = total
        self._draw()

    def advance(self, outcome) -> None:
        self.done += 1
        self.calls += outcome.calls
        self.virtual_us += outcome.virtual_us

    def echo(self, line: str) -> None:
        if self.enabled:
            click.echo("\r\033[K", nl=False)
        click.echo(line)
        self._draw()

    def _draw(self) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * self.done // self.total if self.total else 0
        bar = "#" * filled + "." * (self.WIDTH - filled)
        click.echo(f"\r\033[K[{bar}] {self.done}/{self.total} replays, {self.calls} calls, "
                   f"{self.virtual_us / 60e6:.1f} virtual min", nl=False)

    def echo_bar_only(self) -> None:
        self._draw()

    def close(self) -> None:
        if self.enabled:
            click.echo("\r\033[K", nl=False)
