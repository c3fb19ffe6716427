"""Options shared by every command that plays Twilio towards a server (``run --target``, ``exec``)."""

from __future__ import annotations

import sys

import click


def live_options(command):
    """The options every command that plays Twilio towards a server shares (run, exec)."""
    for option in reversed([
        click.option("--target", envvar="CALLREPLAY_TARGET", metavar="URL",
                     help="Replay against this running server (http://HOST:PORT) instead of the in-process model; "
                          "also CALLREPLAY_TARGET, or `target:` in a scenario."),
        click.option("--twilio-auth-token", envvar="TWILIO_AUTH_TOKEN", metavar="TOKEN",
                     help="Auth token the webhooks and the media socket are signed with (default: a test token; "
                          "the target must accept it). Also TWILIO_AUTH_TOKEN."),
        click.option("--max-wall", default="5m", show_default=True, metavar="DURATION",
                     help="Live mode runs on wall time: longer scenarios are refused."),
        click.option("--concurrency", type=click.IntRange(min=1, max=1000), default=1, show_default=True,
                     help="Live mode: replay this many scenarios at once from one process."),
        click.option("--realtime-port", type=click.IntRange(0, 65535), default=0,
                     help="Port of the realtime emulator (0: a free one), so a running target can be pointed at it."),
        click.option("--twilio-api-port", type=click.IntRange(0, 65535), default=0,
                     help="Port of the Twilio REST emulator (0: a free one)."),
        click.option("--tls", is_flag=True, help="Serve the emulators over wss:// and https:// with a certificate "
                                                 "made for this run (exec points the target at its CA)."),
        click.option("--probe-command", "probe_commands", multiple=True, metavar="NAME=COMMAND",
                     help="A command a scenario's `probe: {command: NAME}` step may run to read the target's state "
                          "(e.g. a read-only SQL query); split like a shell line but run without one, "
                          "{call_sid} {business} {to} {from} substituted. Repeatable."),
    ]):
        command = option(command)
    return command


def _live_options(values: dict):
    """LiveOptions from the command line, or None for an in-process run; a target that is down is exit 2."""
    target = values.get("target")
    if not target:
        return None
    from ..durations import parse_duration
    from ..twilio.ids import TEST_AUTH_TOKEN
    from .preflight import check_target
    from .session import LiveOptions

    try:
        max_wall_s = parse_duration(values.get("max_wall") or "5m") / 1e6
    except ValueError:
        raise click.BadParameter(f"{values.get('max_wall')!r} is not a duration", param_hint="--max-wall") from None
    problem = check_target(target)
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(2)  # the CLI's input-error code
    return LiveOptions(target=target.rstrip("/"), auth_token=values.get("twilio_auth_token") or TEST_AUTH_TOKEN,
                       max_wall_s=max_wall_s, concurrency=values.get("concurrency") or 1,
                       tls=bool(values.get("tls")), realtime_port=values.get("realtime_port") or 0,
                       rest_port=values.get("twilio_api_port") or 0,
                       probe_commands=probe_commands(values.get("probe_commands") or ()))


def probe_commands(given: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``--probe-command NAME=COMMAND`` values as NAME -> argv; a malformed one is a usage error (exit 2)."""
    import re
    import shlex

    commands: dict[str, tuple[str, ...]] = {}
    for text in given:
        name, sep, command = text.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name.strip()):
            raise click.BadParameter(f"{text!r}: expected NAME=COMMAND (NAME: letters, digits, _ or -)",
                                     param_hint="--probe-command")
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise click.BadParameter(f"{text!r}: {exc}", param_hint="--probe-command") from None
        if not argv:
            raise click.BadParameter(f"{text!r}: the command is empty", param_hint="--probe-command")
        commands[name.strip()] = argv
    return commands
