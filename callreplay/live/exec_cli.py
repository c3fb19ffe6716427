"""``callreplay exec [OPTIONS] -- CMD...``: start the user's server pointed at the emulators, replay, stop it.

The emulators' ports are chosen first, so the server can be started with the variables that point
it at them (``docs/live.md`` lists them); ``{port}`` in CMD becomes the server's port (also ``PORT``).
The server's stdout and stderr are captured into each replay's trace as ``log`` events (component
``server``), so log-reading detectors and ``import logs`` formats work on the real server's lines.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path

import click

from ..durations import parse_duration
from .cli_options import live_options

STOP_TIMEOUT_S = 5.0
MAX_LOG_LINES = 200_000
MAX_LINE_CHARS = 4000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerLog:
    """The target's output lines with the monotonic time each arrived (bounded; thread-safe)."""

    def __init__(self) -> None:
        self._lines: deque[tuple[int, str, str]] = deque(maxlen=MAX_LOG_LINES)
        self._lock = threading.Lock()

    def follow(self, stream, name: str) -> threading.Thread:
        def pump() -> None:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")[:MAX_LINE_CHARS]
                with self._lock:
                    self._lines.append((time.monotonic_ns(), name, line))
            stream.close()

        thread = threading.Thread(target=pump, name=f"callreplay-log-{name}", daemon=True)
        thread.start()
        return thread

    def lines_between(self, start_ns: int, end_ns: int) -> list[tuple[int, str, str]]:
        with self._lock:
            return [row for row in self._lines if start_ns <= row[0] <= end_ns]

    def tail(self, n: int = 15) -> list[str]:
        with self._lock:
            return [f"{name}: {line}" for _, name, line in list(self._lines)[-n:]]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float) -> str | None:
    """None once ``url`` answers 2xx; else why not (the process exited, or the time ran out)."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"the server exited with code {process.returncode} before {url} answered"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only, checked
                if 200 <= response.status < 300:
                    return None
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.1)
    return f"{url} did not answer 2xx within {timeout_s:.0f} s (last: {last})"


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    """Signal the server's whole process group (it was started in a session of its own), so a server run
    through a wrapper (``sh run.sh``, ``npm start``) goes with every process it started."""
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        # not the leader of a group of its own (started without start_new_session): signal the process itself
        if process.poll() is None:
            process.send_signal(sig)


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM to the server's group, SIGKILL after STOP_TIMEOUT_S; then nothing of the group is left."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)
    _signal_group(process, signal.SIGKILL)  # whatever the server left behind in its group


def _exec_options(command):
    for option in reversed([
        click.option("-s", "--scenarios", "scenario_paths", multiple=True, required=True,
                     type=click.Path(exists=True, path_type=Path), help="Scenario files or folders (repeatable)."),
        click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
                     help="The server's port (0: a free one); CMD's {port} and PORT carry it."),
        click.option("--health", default="/health", show_default=True, help="Path answered 2xx once the server is up."),
        click.option("--startup-timeout", default="20s", show_default=True, help="How long to wait for --health."),
        click.option("--redirect", is_flag=True,
                     help="Python servers only: redirect connections to the OpenAI, Gemini and Twilio hosts made "
                          "through websockets, aiohttp, httpx and requests to the emulators, and refuse every other "
                          "non-loopback connection."),
        click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
                     show_default=True),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True),
        click.option("--detector", "detectors", multiple=True, metavar="ID=LEVEL"),
        click.option("-k", "keyword", metavar="PATTERN"),
        click.option("--tag", "tags", multiple=True),
        click.option("--junit", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("--show-pii", is_flag=True),
        click.option("--no-html", is_flag=True),
        click.option("-q", "--quiet", count=True),
        click.option("-v", "--verbose", count=True),
    ]):
        command = option(command)
    return live_options(command)


@click.command("exec", context_settings={"ignore_unknown_options": True})
@_exec_options
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_command(scenario_paths, port, health, startup_timeout, redirect, report_dir, fail_on, detectors, keyword,
                 tags, junit, json_out, show_pii, no_html, quiet, verbose, cmd, **live) -> None:
    """Start CMD (your server) pointed at the emulators, replay the scenarios against it, then stop it.

    Example: callreplay exec -s scenarios/live -- python -m examples.bridge"""
    from ..run_command import EXIT_INPUT, _run_command
    from ..scenario.load import discover_scenarios, load_scenario
    from .cli_options import _live_options
    from .fixtures import write_businesses
    from .session import emulator_environment

    port = port or free_port()
    realtime_port = live.get("realtime_port") or free_port()
    rest_port = live.get("twilio_api_port") or free_port()
    work = Path(tempfile.mkdtemp(prefix="callreplay-exec-"))
    certs = None
    scheme_ws, scheme_http = "ws", "http"
    if live.get("tls"):
        from ..emulators.tls import RunCertificates

        certs = RunCertificates(work / "certs")
        scheme_ws, scheme_http = "wss", "https"
    scenarios = []
    for file in discover_scenarios(list(scenario_paths)):
        try:
            scenarios.append(load_scenario(file))
        except Exception:  # reported by the run itself as that scenario's error
            continue
    try:
        businesses = write_businesses(scenarios, work / "businesses.json")
    except Exception as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INPUT)
    token = live.get("twilio_auth_token")
    from ..twilio.ids import TEST_AUTH_TOKEN

    env = dict(os.environ)
    env.update(emulator_environment(f"{scheme_ws}://127.0.0.1:{realtime_port}/v1/realtime",
                                    f"{scheme_ws}://127.0.0.1:{realtime_port}/ws/google.ai.generativelanguage."
                                    "v1beta.GenerativeService.BidiGenerateContent",
                                    f"{scheme_http}://127.0.0.1:{rest_port}", token or TEST_AUTH_TOKEN,
                                    Path(certs.ca_pem_path) if certs else None))
    env.update(PORT=str(port), CALLREPLAY_BUSINESSES_FILE=str(businesses))
    if redirect:
        from .shim import install_environment

        install_environment(env, work / "shim")
    argv = [part.replace("{port}", str(port)) for part in cmd]
    click.echo(f"exec: starting {' '.join(argv)} on port {port}", err=True)
    log = ServerLog()
    try:
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        click.echo(f"error: cannot start {argv[0]!r}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INPUT)
    log.follow(process.stdout, "stdout")
    log.follow(process.stderr, "stderr")
    try:
        problem = wait_healthy(f"http://127.0.0.1:{port}{health}", process,
                               parse_duration(startup_timeout) / 1e6)
        if problem:
            click.echo(f"error: {problem}", err=True)
            for line in log.tail():
                click.echo(f"  {line}", err=True)
            sys.exit(EXIT_INPUT)
        live["target"] = f"http://127.0.0.1:{port}"
        options = _live_options(live)
        options.realtime_port, options.rest_port = realtime_port, rest_port
        options.certs, options.server_log = certs, log
        _run_command(scenario_paths, (), report_dir, fail_on, detectors, keyword, tags, junit, json_out, show_pii,
                     no_html, 1, quiet, verbose, options)
    finally:
        stop_process(process)
