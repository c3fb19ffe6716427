"""A live run: the emulators, the HTTP client, the pacer, and which call each model session serves.

One session serves every scenario of a ``callreplay run --target`` (several at once with
``--concurrency``). The realtime emulator cannot know which call a model session belongs to
(the target connects to one URL for all of them), so the session works it out: a connection is
first given to the oldest call whose stream opened and has no session yet, then confirmed (or
moved) by the caller audio it receives, which callreplay itself sent on exactly one call.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import re
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from ..emulators.realtime import RealtimeScript
from ..emulators.twilio_rest import TwilioRestEmulator
from ..twilio.ids import ACCOUNT_SID, TEST_AUTH_TOKEN
from .guard import HostGuard, is_loopback
from .pacer import FramePacer
from .realtime_process import RealtimeProcess

if TYPE_CHECKING:  # pragma: no cover
    from ..audio.frames import FrameBatch
    from .driver import LiveReplay

SILENCE_BYTES = (0xFF, 0x7F)
MAX_DIGESTS_PER_CALL = 2000
FREEZE_EVERY_S = 0.5


@dataclass
class LiveOptions:
    target: str
    auth_token: str = TEST_AUTH_TOKEN
    max_wall_s: float = 300.0
    concurrency: int = 1
    tls: bool = False
    certs: Any = None                 # a RunCertificates made before the target started (exec), else made here
    realtime_port: int = 0            # 0: a free port, printed when the run starts
    rest_port: int = 0
    realtime_script: RealtimeScript | None = None
    server_log: Any = None            # exec's ServerLog: the target's output lines, put into each trace
    probe_commands: dict[str, tuple[str, ...]] = field(default_factory=dict)  # --probe-command NAME=argv


def emulator_environment(openai_url: str, gemini_url: str, rest_base: str, auth_token: str,
                         ca_path: Path | None) -> dict[str, str]:
    """What a target reads to find the emulators (documented in docs/live.md)."""
    http_base = openai_url.replace("ws://", "http://").replace("wss://", "https://").split("/v1/")[0] + "/v1"
    env = {"OPENAI_API_KEY": "sk-callreplay-test", "OPENAI_BASE_URL": http_base, "OPENAI_REALTIME_URL": openai_url,
           "GEMINI_LIVE_URL": gemini_url, "GOOGLE_API_KEY": "callreplay-test-key", "GEMINI_API_KEY": "callreplay-test-key",
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": auth_token, "TWILIO_API_BASE": rest_base}
    if ca_path is not None:
        env.update(SSL_CERT_FILE=str(ca_path), REQUESTS_CA_BUNDLE=str(ca_path), NODE_EXTRA_CA_CERTS=str(ca_path),
                   CURL_CA_BUNDLE=str(ca_path))
    return env


@dataclass
class _Connection:
    conn: Any
    replay: LiveReplay | None = None
    call: str | None = None
    confirmed: bool = False


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=8).digest()


@dataclass
class LiveSession:
    options: LiveOptions
    http: aiohttp.ClientSession | None = None
    realtime: RealtimeProcess | None = None
    rest: TwilioRestEmulator | None = None
    pacer: FramePacer = field(default_factory=FramePacer)
    client_ssl: ssl.SSLContext | None = None
    ca_path: Path | None = None
    _calls: dict[str, LiveReplay] = field(default_factory=dict)
    _waiting: deque[tuple[LiveReplay, str]] = field(default_factory=deque)
    _connections: dict[str, _Connection] = field(default_factory=dict)
    _rows: dict[str, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)  # per connection
    _digests: dict[bytes, tuple[LiveReplay, str]] = field(default_factory=dict)
    _replays: list[LiveReplay] = field(default_factory=list)
    api_replay: LiveReplay | None = None
    _freezer: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------------
    @property
    def target(self) -> str:
        return self.options.target

    @property
    def target_label(self) -> str:
        split = urlsplit(self.options.target)
        return urlunsplit((split.scheme, split.netloc, split.path, "", ""))

    @property
    def auth_token(self) -> str:
        return self.options.auth_token

    @property
    def guard(self) -> HostGuard:
        return HostGuard(urlsplit(self.options.target).hostname or "")

    async def start(self) -> None:
        server_ssl = None
        cert_files: tuple[str | None, str | None] = (None, None)
        if self.options.tls:
            certs = self.options.certs
            if certs is None:
                import tempfile

                from ..emulators.tls import RunCertificates

                certs = RunCertificates(Path(tempfile.mkdtemp(prefix="callreplay-certs-")))
            server_ssl = certs.server_context()
            self.client_ssl = certs.client_context()
            self.ca_path = Path(certs.ca_pem_path)
            cert_files = (str(certs.server_cert_path), str(certs.server_key_path))
        # a connection per request, as Twilio's webhooks come: a pooled keep-alive connection the server closes
        # while idle would fail the next webhook ("cannot write request body") for a reason that is ours
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                          connector=aiohttp.TCPConnector(force_close=True, limit=0))
        # the model runs in its own process, off the core the pacer needs (realtime_child.py)
        self.realtime = RealtimeProcess(self.options.realtime_script or RealtimeScript(), record=self._record_realtime,
                                        on_audio=self._on_audio, script_for=self._script_for)
        await self.realtime.start(self.options.realtime_port, *cert_files)
        self.rest = TwilioRestEmulator(ACCOUNT_SID, self.options.auth_token, record=self._record_rest,
                                       hooks=_RestHooks(self))
        await self.rest.start(host="127.0.0.1", port=self.options.rest_port, ssl=server_ssl)
        self._freezer = asyncio.ensure_future(self._freeze_heap())

    async def _freeze_heap(self) -> None:
        """Keep the collector off what the run has recorded so far.

        A run keeps every event until its trace is written: hundreds of thousands of small objects
        at 200 calls, which a full collection scans at once (over 100 ms, every frame of every call
        late meanwhile). Frozen objects are still freed when unreferenced; only cycles wait for
        :meth:`close`, which unfreezes.
        """
        while True:
            await asyncio.sleep(FREEZE_EVERY_S)
            gc.freeze()

    async def close(self) -> None:
        """Stop everything the run started, each step on its own (one failing never leaves the rest open)."""
        if self._freezer is not None:
            self._freezer.cancel()
            gc.unfreeze()
        steps = [self.http.close() if self.http is not None else None, self.pacer.stop(),
                 self.realtime.stop() if self.realtime is not None else None,
                 self.rest.stop() if self.rest is not None else None]
        for step in steps:
            if step is None:
                continue
            try:
                await asyncio.shield(step)
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - closing must finish whatever happens
                continue

    def environment(self) -> dict[str, str]:
        """The variables that point a target at the emulators (``callreplay exec`` sets them)."""
        assert self.realtime is not None and self.rest is not None
        return emulator_environment(self.realtime.openai_url, self.realtime.gemini_url, self.rest.base_url,
                                    self.options.auth_token, self.ca_path)

    # -- the streams' URLs ------------------------------------------------------------------------------
    def socket_url(self, wss_url: str) -> str | None:
        """Where to open a ``<Stream url>``: like the TLS tunnel in front of a server, ``wss://`` to the
        target's own host is played as ``ws://`` when the target itself speaks plain HTTP."""
        split = urlsplit(wss_url)
        if split.scheme != "wss" or not self.guard.allowed(wss_url):
            return None  # Twilio opens wss:// only (31922); nothing beyond loopback and the target
        target = urlsplit(self.options.target)
        same_host = (split.hostname or "") == (target.hostname or "") or is_loopback(split.hostname or "")
        if split.scheme == "wss" and target.scheme == "http" and same_host:
            return urlunsplit(("ws", split.netloc, split.path, split.query, ""))
        return wss_url

    def http_url(self, url: str) -> str:
        """Like the TLS tunnel in front of a plain-HTTP server, ``https://`` to the target's own host is
        requested as ``http://`` (the URLs an app hands Twilio are its public, TLS ones)."""
        split = urlsplit(url)
        target = urlsplit(self.options.target)
        if split.scheme == "https" and target.scheme == "http" and split.netloc == target.netloc:
            return urlunsplit(("http", split.netloc, split.path, split.query, ""))
        return url

    # -- calls and model sessions -------------------------------------------------------------------------
    def replay_started(self, replay: LiveReplay) -> None:
        if self._replays:  # calls now share the server's log: a line naming no call is no longer "this call's"
            for other in (*self._replays, replay):
                other.shares_server_log = True
        self._replays.append(replay)

    def replay_finished(self, replay: LiveReplay) -> None:
        if replay in self._replays:
            self._replays.remove(replay)

    def register_call(self, replay: LiveReplay, sid: str) -> None:
        self._calls[sid] = replay

    def expect_realtime_connection(self, replay: LiveReplay, sid: str) -> None:
        if not any(c.call == sid for c in self._connections.values()):
            self._waiting.append((replay, sid))

    def remember_audio(self, replay: LiveReplay, sid: str, batch: FrameBatch) -> None:
        """Digests of the non-silent frames sent on this call, to recognise them at the emulator."""
        kept = 0
        for i in range(len(batch)):
            payload = batch.payload_bytes(i)
            if not payload or payload[0] in SILENCE_BYTES and payload.count(payload[0]) == len(payload):
                continue
            key = _digest(payload)
            owner = self._digests.get(key)
            if owner is None:
                self._digests[key] = (replay, sid)
            elif owner != (replay, sid):
                self._digests[key] = (replay, "")  # the same frame on two calls proves nothing
            kept += 1
            if kept >= MAX_DIGESTS_PER_CALL:
                break

    def _entry(self, conn: Any) -> _Connection:
        entry = self._connections.get(conn.id)
        if entry is None:
            entry = self._connections[conn.id] = _Connection(conn)
            while self._waiting:
                replay, sid = self._waiting.popleft()
                if not replay.finished:
                    entry.replay, entry.call = replay, sid
                    break
        return entry

    def _script_for(self, conn: Any) -> RealtimeScript:
        """The behaviour the scenario of the call this connection (provisionally) serves asks of the model."""
        entry = self._entry(conn)
        base = self.options.realtime_script or RealtimeScript()
        return script_from(entry.replay.scenario.model, base) if entry.replay is not None else base

    def _on_audio(self, conn: Any, payload: bytes) -> bool:
        """Tie the session to the call whose audio this is; True once it is tied."""
        entry = self._entry(conn)
        if entry.confirmed:
            return True
        owner = None
        for start in range(0, len(payload) - len(payload) % 160, 160):  # one append may carry several frames
            owner = self._digests.get(_digest(payload[start:start + 160]))
            if owner is not None and owner[1]:
                break
        if owner is None or not owner[1]:
            return False
        replay, sid = owner
        if (entry.replay, entry.call) != (replay, sid):
            # the provisional guess was wrong: give the guessed call back to the queue
            if entry.call is not None and entry.replay is not None:
                self._waiting.appendleft((entry.replay, entry.call))
            self._waiting = deque(w for w in self._waiting if w != (replay, sid))
            entry.replay, entry.call = replay, sid
        entry.confirmed = True
        return True

    def _record_realtime(self, conn_id: str, t_ns: int, kind: str, data: dict[str, Any]) -> None:
        if conn_id not in self._connections and self.realtime is not None and conn_id != "-":
            self._entry(self.realtime.connection(conn_id))
        self._rows.setdefault(conn_id, []).append((t_ns, kind, data))

    def _record_rest(self, kind: str, data: dict[str, Any]) -> None:
        path = str(data.get("path", ""))
        sid = next((part[:34] for part in path.split("/") if part.startswith("CA")), None)
        replay = self._calls.get(sid) if sid else None
        replay = replay or self.api_replay or (self._replays[-1] if self._replays else None)
        if replay is not None:
            replay.recorder.emit(sid, "twilio_rest", kind, **data)

    async def sessions_closed(self, replay: LiveReplay, timeout_s: float) -> None:
        """Wait (bounded) until the server has closed this replay's model sessions, so their close is traced."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            open_ = [e for e in self._connections.values() if e.replay is replay and e.conn.closed_by is None]
            if not open_:
                return
            await asyncio.sleep(0.05)

    def connection_for(self, replay: LiveReplay, sid: str) -> Any:
        for entry in self._connections.values():
            if entry.replay is replay and entry.call == sid:
                return entry.conn
        return None

    def connections_of(self, replay: LiveReplay) -> dict[str, str]:
        """Move this replay's model-session records into its trace; return connection -> call."""
        mine = {cid: e.call for cid, e in self._connections.items() if e.replay is replay and e.call}
        t0_us = replay.recorder.t0_ns // 1000
        configured: set[str] = set()
        early: dict[str, list[int]] = {}
        for conn_id in mine:
            for t_ns, kind, data in self._rows.pop(conn_id, []):
                t_us = t_ns // 1000 - t0_us
                replay.recorder.emit_at(t_us, "conn:" + conn_id, "realtime", kind, **dict(data, conn=conn_id))
                if kind == "realtime.session_updated":
                    configured.add(conn_id)
                elif kind == "realtime.audio_in" and conn_id not in configured:
                    early.setdefault(conn_id, []).append(t_us)
        for conn_id, times in early.items():  # what audio-before-prompt reads, as the in-process session says it
            replay.recorder.emit_at(times[-1], "conn:" + conn_id, "realtime", "realtime.audio_before_instructions",
                                    frames=len(times), first_us=times[0], instructions_set=False, conn=conn_id)
        if self.options.server_log is not None:
            others = [sid for sid, owner in self._calls.items() if owner is not replay]
            for t_ns, stream, line in self.options.server_log.lines_between(replay.recorder.t0_ns, time.monotonic_ns()):
                owner = _owner_of(line, replay, others)
                if owner is not _ANOTHER_CALL:
                    replay.recorder.emit_at(t_ns // 1000 - t0_us, owner, "server", "log",
                                            level=stream.upper(), message=line)
        return mine

    def rest_call_created(self, call: Any) -> None:
        replay = self.api_replay or (self._replays[-1] if self._replays else None)
        if replay is not None:
            replay.place_rest_call(call)

    def rest_call_updated(self, call: Any, changes: dict[str, Any]) -> None:
        replay = self._calls.get(call.sid)
        if replay is not None:
            replay.rest_call_updated(call, changes)


_ANOTHER_CALL = "\0another call"
_BUSINESS_IN_LINE = re.compile(r"\bbusiness_id[=:]\s*(\d+)")


def _owner_of(line: str, replay: LiveReplay, other_calls: list[str]) -> str | None:
    """The call a server log line is about: the one whose CallSid (or its logged 8-character prefix) it
    names; ``_ANOTHER_CALL`` when it names a call of another replay (that line is not put in this trace);
    else the replay's only call, unless other replays ran beside it, when only a line naming that call's
    business is taken as its (``business_id=N``) and any other line stays unattributed."""
    found = next((sid for sid in replay.calls if sid in line or sid[:8] in line), None)
    if found is not None:
        return found
    if any(sid in line or sid[:8] in line for sid in other_calls):
        return _ANOTHER_CALL
    if len(replay.calls) != 1:
        return None
    only = next(iter(replay.calls))
    if not replay.shares_server_log:
        return only
    named = _BUSINESS_IN_LINE.search(line)
    if named is not None and replay.expected_business.get(only) == int(named.group(1)):
        return only
    return None


class _RestHooks:
    """What the REST emulator tells the run: the app created or changed a call."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session

    async def call_created(self, call: Any) -> None:
        self.session.rest_call_created(call)

    async def call_updated(self, call: Any, changes: dict[str, Any]) -> None:
        self.session.rest_call_updated(call, changes)

    async def recording_changed(self, call: Any, recording: Any) -> None:
        return None

    async def stream_changed(self, call: Any, stream: Any) -> None:
        return None


def script_from(model: dict[str, Any], base: RealtimeScript | None = None) -> RealtimeScript:
    """A scenario's ``model:`` section as the realtime emulator's script (durations already in µs)."""
    from dataclasses import replace

    from ..emulators.realtime import Rejection

    script = base or RealtimeScript()
    changes: dict[str, Any] = {}
    for key in ("greeting_duration", "response_duration", "auto_response_duration", "response_latency"):
        if key in model:
            changes[f"{key}_s"] = model[key] / 1e6
    for key in ("delivery_rate", "chunk_bytes", "never_confirm"):
        if key in model:
            changes[key] = model[key]
    for key in ("reject_session_update", "fail_response_create"):
        if key in model:
            changes[key] = Rejection(**model[key])
    if "turns" in model:
        changes["turns"] = tuple(_turn_from(turn) for turn in model["turns"])
    return replace(script, **changes) if changes else script


def _turn_from(turn: dict[str, Any]) -> Any:
    """One ``model.turns`` entry as the emulator's TurnScript."""
    from ..emulators.realtime import Rejection, TurnScript

    failure = turn.get("fail_response_create")
    return TurnScript(fail_response_create=Rejection(**failure) if failure is not None else None,
                      response_duration_s=turn["response_duration"] / 1e6 if "response_duration" in turn else None,
                      delivery_rate=turn.get("delivery_rate"), chunk_bytes=turn.get("chunk_bytes"))
