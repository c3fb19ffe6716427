"""The ``callreplay`` command line: parse, call the library, map errors to exit codes.

Exit codes: 0 every expectation met, 1 a replay failed its expectation, 2 a usage or input error
(a scenario that does not load, an unknown profile or detector), 5 ``run`` selected no scenario
(as pytest), 130 interrupted by Ctrl-C (finished results are kept).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ._version import __version__
from .detectors import all_detectors
from .errors import CallReplayError, ScenarioError
from .live.cli_options import _live_options, live_options
from .pipeline.profiles import load_profile, profile_names
from .run_command import EXIT_INPUT, EXIT_OK, _run_command


class _Main(click.Group):
    """The command group: an error callreplay raises on purpose (a broken detector plugin, say) is one line
    and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CallReplayError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INPUT)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--executor", default="local", show_default=True, metavar="local|dask://HOST:PORT",
              help="Where replays run: this machine, or the workers of a Dask scheduler (pip install "
                   "'callreplay[dask]'). Output is the same for any executor.")
@click.option("-q", "--quiet", count=True, help="Print less (-q: failures and summary only).")
@click.option("-v", "--verbose", count=True, help="Print every finding of every replay.")
@click.option("--update-expectations", is_flag=True,
              help="Write what each failing replay found into its scenario's expect: for that profile "
                   "(comments and formatting kept); those replays then count as passed.")
@live_options
def run(paths, profiles, report_dir, fail_on, detectors, keyword, tags, junit, json_out, show_pii, no_html, jobs,
        executor, quiet, verbose, update_expectations, **live) -> None:
    """Replay every scenario under PATHS (files or folders, searched recursively).

    With --target URL (or CALLREPLAY_TARGET, or a scenario's own `target:`) the scenarios are played against
    that running server instead of the in-process model, with Twilio and the realtime model emulated."""
    _run_command(paths, profiles, report_dir, fail_on, detectors, keyword, tags, junit, json_out, show_pii, no_html,
                 jobs, quiet, verbose, _live_options(live), executor=executor, update_expectations=update_expectations)


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


def _attach_live_commands() -> None:
    from .live.exec_cli import exec_command
    from .serve.cli import serve

    main.add_command(serve)
    main.add_command(exec_command)


_attach_capture_commands()
_attach_live_commands()
