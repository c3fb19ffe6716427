"""The ``callreplay`` command line: parse, call the library, map errors to exit codes.

Exit codes: 0 every expectation met, 1 a replay failed its expectation, 2 a usage or input error
(a scenario that does not load, an unknown profile or detector), 5 ``run`` selected no scenario
(as pytest), 130 interrupted by Ctrl-C (finished results are kept).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import click

from . import __version__
from .atomic_write import write_text_atomic
from .detectors import all_detectors
from .detectors.base import Severity
from .errors import CallReplayError, ScenarioError
from .pipeline.profiles import load_profile, profile_names

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="callreplay")
def main() -> None:
    """Replay recorded Twilio call traffic against a faithful model of the AI voice-call pipeline and flag
    prompt-routing bugs (direction contamination, prompts that outlive their TTL, and more)."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--pipeline", "profiles", multiple=True, metavar="NAME",
              help="Profile to replay under (repeatable): a built-in name or package.module:attr. "
                   "Default: the profiles each scenario's expect names, else 'fixed'.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="Where results, traces and HTML reports are written.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True,
              help="Unexpected findings at or above this severity fail a replay.")
@click.option("--detector", "detectors", multiple=True, metavar="ID=LEVEL",
              help="Override a detector for this run: ID=off|error|warning|info (repeatable).")
@click.option("-k", "keyword", metavar="PATTERN", help="Only scenarios whose name or path contains PATTERN.")
@click.option("--tag", "tags", multiple=True, help="Only scenarios with this tag (repeatable).")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every result and finding as JSON here.")
@click.option("--show-pii", is_flag=True, help="Do not mask phone numbers in reports and results.")
@click.option("--no-html", is_flag=True, help="Write JSON results and traces only.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Replay in this many processes (0: one per core). Output is the same for any value.")
@click.option("-q", "--quiet", count=True, help="Print less (-q: failures and summary only).")
@click.option("-v", "--verbose", count=True, help="Print every finding of every replay.")
def run(paths, profiles, report_dir, fail_on, detectors, keyword, tags, junit, json_out, show_pii, no_html, jobs,
        quiet, verbose) -> None:
    """Replay every scenario under PATHS (files or folders, searched recursively)."""
    from .runner import RunInterrupted, RunOptions, aggregate_json, run_all
    from .summary import failure_lines, outcome_line

    if any(":" in name for name in profiles):
        _importable_from_cwd()
    for name in profiles:
        try:
            load_profile(name, allow_code=True)
        except CallReplayError as exc:
            raise click.BadParameter(str(exc), param_hint="--pipeline") from None
    options = RunOptions(profiles=list(profiles), fail_on=Severity(fail_on),
                         detector_settings=_detector_settings(detectors), report_dir=report_dir, keyword=keyword,
                         tags=list(tags), show_pii=show_pii, jobs=jobs)
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

    command = "callreplay " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    interrupted = False
    try:
        outcomes = run_all(list(paths), options, on_outcome=show, on_plan=progress.plan, command=command)
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
    totals = {s: sum(o.status == s for o in outcomes) for s in ("pass", "fail", "error", "skipped")}
    click.echo(f"{totals['pass']} passed, {totals['fail']} failed, {totals['error']} errors, "
               f"{totals['skipped']} skipped")
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if totals["error"]:
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FAILED if totals["fail"] else EXIT_OK)


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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate(paths) -> None:
    """Check scenario files (format, calls, audio files) without replaying them."""
    from .scenario.load import discover_scenarios, load_scenario

    bad = 0
    files = discover_scenarios(list(paths))
    for file in files:
        try:
            load_scenario(file)
        except CallReplayError as exc:
            bad += 1
            for line in exc.all_lines() if isinstance(exc, ScenarioError) else [str(exc)]:
                click.echo(f"error: {line}", err=True)
        except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001 (one bad file never stops the rest)
            from .runner import unforeseen

            bad += 1
            click.echo(f"error: {unforeseen(exc, f'{file}:1: loading')}", err=True)
        else:
            click.echo(f"ok: {file}")
    click.echo(f"{len(files) - bad} valid, {bad} invalid")
    sys.exit(EXIT_INPUT if bad else EXIT_OK)


@main.command()
@click.argument("results_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--show-pii", is_flag=True, help="Do not mask phone numbers (only if the results were written with it).")
def report(results_dir, show_pii) -> None:
    """Re-render the HTML reports from a results directory written by 'callreplay run', without replaying."""
    from .report import render_reports

    if not (results_dir / "run.json").is_file():
        click.echo(f"error: {results_dir}/run.json not found (expected a directory written by 'callreplay run')",
                   err=True)
        sys.exit(EXIT_INPUT)
    try:
        click.echo(f"report: {render_reports(results_dir, show_pii=show_pii)}")
    except (CallReplayError, ValueError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)


@main.command("detectors")
def list_detectors() -> None:
    """List the registered detectors: id, default severity and what each means."""
    for detector in all_detectors().values():
        click.echo(f"{detector.id:26} {detector.severity.value:8} {detector.summary}")


@main.command("profiles")
def list_profiles() -> None:
    """List the built-in pipeline profiles (mutants included)."""
    for name in profile_names():
        click.echo(f"{name:34} {load_profile(name).summary}")


@main.command()
def schema() -> None:
    """Print the scenario format's JSON Schema (point your editor's YAML support at it)."""
    from .scenario.schema import scenario_schema

    click.echo(json.dumps(scenario_schema(), indent=1, ensure_ascii=False))


def _attach_capture_commands() -> None:
    try:
        from .capture.cli import import_group, record
    except ImportError:  # pragma: no cover - the capture package ships with callreplay
        return
    main.add_command(record)
    main.add_command(import_group)


_attach_capture_commands()
