"""Click commands for recording and importing; the main ``callreplay`` group attaches them.

Thin on purpose: parse options, call the library, print what was written and assumed. Input
errors (``ImportFormatError``) print ``error: <file>:<line>: <what> (expected ...)`` to stderr and
exit 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import CallReplayError
from .redact import KEEP_CHOICES, Redactor, parse_keep

EXIT_INPUT_ERROR = 2


def _keep(value: str | None) -> frozenset[str]:
    try:
        return parse_keep(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_INPUT_ERROR)


def _report(report) -> None:
    for path in report.files:
        click.echo(f"wrote {path}")
    click.echo(f"{report.steps} steps")
    for line in report.assumptions:
        click.echo(f"assumed: {line}")
    for line in report.problems:
        click.echo(f"warning: {line}", err=True)


KEEP_HELP = "comma list of what NOT to redact: " + ", ".join(KEEP_CHOICES) + " (default: redact all)"


@click.command("record")
@click.option("--listen", default="127.0.0.1:8765", show_default=True, help="host:port the proxy serves on")
@click.option("--target", required=True, help="base URL of the real application, e.g. http://127.0.0.1:5000")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("captures"),
              show_default=True, help="folder for <CallSid>.jsonl capture files")
@click.option("--public-url", default=None,
              help="what TwiML <Stream url> is rewritten to (default ws://LISTEN); use wss://your-tunnel for Twilio")
@click.option("--keep", default=None, help=KEEP_HELP)
def record(listen: str, target: str, out_dir: Path, public_url: str | None, keep: str | None) -> None:
    """Record webhooks and Media Streams between Twilio and TARGET, one capture file per call."""
    from .proxy import run_proxy

    if ":" not in listen or not listen.rpartition(":")[2].isdigit():
        raise click.BadParameter(f"{listen!r} (expected host:port)", param_hint="--listen")
    out_dir.mkdir(parents=True, exist_ok=True)
    run_proxy(listen, target, out_dir, Redactor.for_folder(out_dir, _keep(keep), create=True), public_url,
              echo=click.echo)


@click.group("import")
def import_group() -> None:
    """Turn captures, application logs or Twilio call exports into scenarios."""


import_ = import_group  # the name the lead's CLI may import

_out = click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                    help="scenario file to write, e.g. scenarios/NAME.yaml")
_force = click.option("--force", is_flag=True, help="overwrite existing output files")
_businesses = click.option("--businesses", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="YAML list of businesses (scenario format) instead of a TEMPLATE")
_files = click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))


@import_group.command("capture")
@_files
@_out
@_businesses
@click.option("--audio", type=click.Choice(["keep", "envelope", "none"]), default="envelope", show_default=True,
              help="caller audio: real payloads, RMS-matched synthetic signal, or no media steps")
@click.option("--keep", default=None, help=KEEP_HELP)
@_force
def import_capture_cmd(files, out, businesses, audio, keep, force) -> None:
    """Turn capture FILES (from `callreplay record`) into one scenario."""
    from .importers.from_capture import import_capture

    try:
        _report(import_capture(list(files), out, businesses=businesses, audio=audio, keep=_keep(keep), force=force))
    except CallReplayError as exc:
        _fail(exc)


@import_group.command("logs")
@_files
@_out
@click.option("--format", "fmt", default="prosaas", show_default=True,
              help="built-in log format name or a format YAML file")
@_businesses
@click.option("--keep", default=None, help=KEEP_HELP)
@_force
def import_logs_cmd(files, out, fmt, businesses, keep, force) -> None:
    """Reconstruct a scenario skeleton from application log FILES."""
    from .importers.from_logs import import_logs

    try:
        report = import_logs(list(files), out, fmt=fmt, businesses=businesses, keep=_keep(keep), force=force)
    except CallReplayError as exc:
        _fail(exc)
    _report(report)
    if report.unmatched_lines:
        click.echo(f"{report.unmatched_lines} line(s) matched no event (not an error)")


@import_group.command("twilio-calls")
@_files
@_out
@_businesses
@click.option("--keep", default=None, help=KEEP_HELP)
@_force
def import_twilio_calls_cmd(files, out, businesses, keep, force) -> None:
    """One call skeleton per row of a Twilio call-log CSV export."""
    from .importers.from_twilio_calls import import_twilio_calls

    try:
        _report(import_twilio_calls(list(files), out, businesses=businesses, keep=_keep(keep), force=force))
    except CallReplayError as exc:
        _fail(exc)
