"""A probe step live: read the target's stored state by a GET on loopback or by a command the user configured.

Probes are opt-in (a scenario step), bounded by their timeout, and never write: the HTTP probe is a GET to a
path of the target, and a command runs only if the user named it on the command line (``--probe-command``;
a scenario file can name a command, never supply one), without a shell, stdin closed. Whatever goes wrong
becomes a ``probe.failed`` event; a record that does not exist (HTTP 404, empty output) is a ``probe.result``
with ``found: false``.
"""

from __future__ import annotations

import asyncio
import subprocess
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from ..probes import MAX_OUTPUT_BYTES, ProbeError, parse_answer, result_data, substitute
from .guard import is_loopback

if TYPE_CHECKING:  # pragma: no cover
    from ..scenario.model import ProbeStep
    from .driver import LiveReplay

STDERR_TAIL = 300


def probe_values(replay: LiveReplay, sid: str) -> dict[str, str | None]:
    """What a probe may substitute for this call: its CallSid, the dialled business, its numbers."""
    call = replay.calls.get(sid)
    business = replay.expected_business.get(sid)
    return {"call_sid": sid, "business": str(business) if business is not None else None,
            "to": call.to if call else None, "from": call.from_ if call else None}


async def run_probe(replay: LiveReplay, step: ProbeStep) -> None:
    """Carry out one probe step and record its result (or why it failed) in the trace."""
    rec = replay.recorder
    started = rec.now_us()
    via, target = ("http", step.http or "") if step.http is not None else ("command", step.command or "")
    http_status: int | None = None
    try:
        values = probe_values(replay, step.call)
        if via == "http":
            document, http_status = await _http(replay, substitute(target, values), step.timeout_us / 1e6)
        else:
            document = await _command(replay.session.options.probe_commands, target, values, step.timeout_us / 1e6)
    except ProbeError as exc:
        rec.emit(step.call, "probe", "probe.failed", via=via, target=target, step=step.path, reason=exc.reason,
                 message=str(exc)[:STDERR_TAIL], elapsed_us=rec.now_us() - started, http_status=exc.http_status)
        return
    rec.emit(step.call, "probe", "probe.result",
             **result_data(document, step.fields, via=via, target=target, step=step.path,
                           elapsed_us=rec.now_us() - started, http_status=http_status))


async def _http(replay: LiveReplay, path: str, timeout_s: float) -> tuple[Any, int]:
    url = replay.session.target.rstrip("/") + path
    host = urlsplit(url).hostname or ""
    if not is_loopback(host):
        raise ProbeError("not-loopback", f"probes read loopback targets only, not {host!r}")
    try:
        async with replay.http.get(url, headers={"Accept": "application/json"}, ssl=replay.client_ssl,
                                   allow_redirects=False, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            body = await response.content.read(MAX_OUTPUT_BYTES + 1)
            status = response.status
    except TimeoutError:
        raise ProbeError("timeout", f"GET {path}: no answer within {timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise ProbeError("connection", f"GET {path}: {type(exc).__name__}: {exc}") from None
    if status == 404:
        return None, status
    if not 200 <= status < 300:
        raise ProbeError("http-status", f"GET {path} answered HTTP {status}", http_status=status)
    return parse_answer(body), status


async def _command(commands: dict[str, tuple[str, ...]], name: str, values: dict[str, str | None],
                   timeout_s: float) -> Any:
    argv = commands.get(name)
    if argv is None:
        raise ProbeError("not-configured", f"no probe command {name!r}: give --probe-command {name}='...' to run one")
    argv = tuple(substitute(arg, values) for arg in argv)
    try:
        process = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                       stderr=subprocess.PIPE)
    except OSError as exc:
        raise ProbeError("cannot-start", f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ProbeError("timeout", f"{name}: no answer within {timeout_s:g} s; stopped") from None
    if process.returncode != 0:
        tail = err.decode("utf-8", errors="replace").strip()[-STDERR_TAIL:]
        raise ProbeError("exit-status", f"{name} exited {process.returncode}: {tail}")
    if not out.strip():
        return None  # no row: the record does not exist
    return parse_answer(out)
