"""Twilio's REST API on a loopback port: the endpoints a voice agent calls (twilio-voice.md 6).

The target under test points its Twilio client here (``client.api.base_url = rest.base_url``,
sheet 6.4) and creates, fetches and updates calls, starts and stops recordings and streams. The
emulator answers with Twilio's JSON and error bodies and tells the live driver what happened
through ``hooks`` (the driver places a created call, follows a new ``Url``/``Twiml``, hangs up).
Every request, refused ones included, is passed to ``record('twilio.rest', {...})`` with its
method, path, resource, parameters (credentials removed), status and error code.

It runs on the caller's asyncio loop; ``start``/``stop`` bracket it, and nothing in it waits
without bound (aiohttp's own shutdown timeout applies to ``stop``).
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl as ssl_module
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from callreplay.twilio.ids import API_VERSION, sid_for
from callreplay.twilio.voice_params import CALL_STATUSES

from .twilio_rest_model import (
    ENDED_STATUSES,
    NOT_ANSWERED_STATUSES,
    RECORDING_ENUMS,
    CallResource,
    Form,
    RecordingResource,
    RestError,
    StreamResource,
    check_create_call,
    check_enums,
    check_methods,
    check_twiml,
    check_url,
    first,
    page_of,
    parse_events,
    parse_timeout,
    stream_parameters,
)

CREDENTIAL_PARAMS = frozenset({"AuthToken", "Password", "SipAuthPassword", "SipAuthUsername"})
UPDATE_PARAMS = ("Url", "Method", "Status", "FallbackUrl", "FallbackMethod", "StatusCallback",
                 "StatusCallbackMethod", "Twiml", "TimeLimit")

RECORDING_RUNNING = ("in-progress", "paused")  # a recording that can still be paused, resumed or stopped

Record = Callable[[str, dict], None]


class RestHooks(Protocol):
    """What the live driver is told. Each is awaited before the response is sent: keep them
    short and start long work (placing the call) as a task."""

    async def call_created(self, call: CallResource) -> None: ...
    async def call_updated(self, call: CallResource, changes: dict[str, str]) -> None: ...
    async def recording_changed(self, call: CallResource, recording: RecordingResource) -> None: ...
    async def stream_changed(self, call: CallResource, stream: StreamResource) -> None: ...


class NullRestHooks:
    """The default hooks: nothing happens beyond the emulator's own bookkeeping."""

    async def call_created(self, call: CallResource) -> None:
        return None

    async def call_updated(self, call: CallResource, changes: dict[str, str]) -> None:
        return None

    async def recording_changed(self, call: CallResource, recording: RecordingResource) -> None:
        return None

    async def stream_changed(self, call: CallResource, stream: StreamResource) -> None:
        return None


Handler = Callable[["_Request"], Awaitable[tuple[int, dict | None]]]


class _Request:
    """One parsed request: the route's path pieces, the form (query and body, repeated keys kept)."""

    def __init__(self, method: str, path: str, match: Mapping[str, str], form: Form) -> None:
        self.method = method
        self.path = path
        self.match = match
        self.form = form
        self.resource = "unknown"
        self.sid: str | None = None


class TwilioRestEmulator:
    """The Twilio REST API for one account, in memory, served over HTTP(S) on loopback."""

    def __init__(self, account_sid: str, auth_token: str, record: Record | None = None,
                 hooks: RestHooks | None = None, clock: Callable[[], datetime] | None = None,
                 seed: str = "rest") -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: dict[str, CallResource] = {}
        self._record = record or (lambda kind, data: None)
        self._hooks: RestHooks = hooks or NullRestHooks()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._seed = seed
        self._created = 0
        self._reserved: list[str] = []
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        prefix = rf"/{API_VERSION}/Accounts/(?P<account>[^/]+)"
        call = prefix + r"/Calls/(?P<call>[^/]+)"
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(prefix + r"/Calls\.json"), self._create_call),
            ("GET", re.compile(prefix + r"/Calls\.json"), self._list_calls),
            ("GET", re.compile(call + r"\.json"), self._fetch_call),
            ("POST", re.compile(call + r"\.json"), self._update_call),
            ("DELETE", re.compile(call + r"\.json"), self._delete_call),
            ("POST", re.compile(call + r"/Recordings\.json"), self._create_recording),
            ("GET", re.compile(call + r"/Recordings\.json"), self._list_call_recordings),
            ("GET", re.compile(call + r"/Recordings/(?P<recording>[^/]+)\.json"), self._fetch_recording),
            ("POST", re.compile(call + r"/Recordings/(?P<recording>[^/]+)\.json"), self._update_recording),
            ("GET", re.compile(prefix + r"/Recordings\.json"), self._list_account_recordings),
            ("POST", re.compile(call + r"/Streams\.json"), self._create_stream),
            ("POST", re.compile(call + r"/Streams/(?P<stream>[^/]+)\.json"), self._update_stream),
        ]

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0, ssl: ssl_module.SSLContext | None = None) -> None:
        """Listen on ``host:port`` (0: a free port); ``base_url`` is then set."""
        if self._runner is not None:
            raise RuntimeError("the Twilio REST emulator is already started")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._base_url = f"{'https' if ssl else 'http'}://{host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT``: what the target's Twilio client uses as its API base."""
        if self._base_url is None:
            raise RuntimeError("the Twilio REST emulator is not started")
        return self._base_url

    # -- the driver's side -----------------------------------------------------------------------
    def reserve_call_sid(self, sid: str) -> None:
        """The next call created gets this SID (a scenario names the call its request will make the app create)."""
        if not (sid.startswith("CA") and len(sid) == 34):
            raise ValueError(f"{sid!r} is not a CallSid (CA + 32 hex)")
        self._reserved.append(sid)

    def add_call(self, sid: str, to: str, from_: str, direction: str = "inbound",
                 status: str = "ringing") -> CallResource:
        """A call Twilio itself received (inbound): the app may fetch, update or record it like its own."""
        if sid in self.calls:
            return self.calls[sid]
        now = self._clock()
        call = CallResource(sid=sid, account_sid=self.account_sid, to=to, from_=from_, url=None, method="POST",
                            twiml=None, application_sid=None, status_callback=None, status_callback_method="POST",
                            events=(), status=status, direction=direction, date_created=now, date_updated=now,
                            params={})
        call.history.append((status, now))
        self.calls[sid] = call
        return call

    def set_status(self, sid: str, status: str) -> CallResource:
        """Move a call on (queued -> initiated -> ringing -> in-progress -> completed...)."""
        if sid not in self.calls:
            raise KeyError(f"no call {sid} in the Twilio REST emulator")
        if status not in CALL_STATUSES:
            raise ValueError(f"call status {status!r} is not one of {', '.join(CALL_STATUSES)}")
        call = self.calls[sid]
        now = self._clock()
        call.status = status
        call.date_updated = now
        call.history.append((status, now))
        if status == "in-progress" and call.start_time is None:
            call.start_time = now
        if status in ENDED_STATUSES and call.end_time is None:
            call.end_time = now
            for recording in call.recordings.values():
                if recording.status in RECORDING_RUNNING:
                    self._stop_recording(recording, now)
            for stream in call.streams.values():
                stream.status, stream.date_updated = "stopped", now
        return call

    # -- HTTP ------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        form: dict[str, list[str]] = {}
        parsed = _Request(request.method, request.path, {}, form)
        status, body, code, hook_error = 500, None, None, None
        try:
            self._authenticate(request)
            form.update(await _read_form(request))
            handler = self._route(parsed)
            status, body = await handler(parsed)
        except RestError as error:
            status, code, body = error.status, error.code, error.body()
        except web.HTTPException as error:  # e.g. a body over aiohttp's size limit
            error_body = RestError(error.status, error.status, error.reason).body()
            status, code, body = error.status, error.status, error_body
        except Exception as error:  # noqa: BLE001 - a failing hook is the driver's bug; answer and record it
            hook_error = f"{type(error).__name__}: {error}"
            status, code, body = 500, 20500, RestError(500, 20500, "Internal Server Error").body()
        self._record("twilio.rest", {
            "method": request.method, "path": request.path, "resource": parsed.resource, "sid": parsed.sid,
            "params": {key: values[0] if len(values) == 1 else list(values)
                       for key, values in form.items() if key not in CREDENTIAL_PARAMS},
            "status": status, "error_code": code, **({"hook_error": hook_error} if hook_error else {}),
        })
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if scheme.lower() != "basic" or (user, password) != (self.account_sid, self.auth_token):
            raise RestError(401, 20003, "Authenticate")

    def _route(self, request: _Request) -> Handler:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                request.match = match.groupdict()
                if request.match["account"] != self.account_sid:
                    break
                return handler
        raise _not_found(request)

    def _call(self, request: _Request) -> CallResource:
        sid = request.match["call"]
        request.sid = sid
        if sid not in self.calls:
            raise _not_found(request)
        return self.calls[sid]

    # -- calls -----------------------------------------------------------------------------------
    async def _create_call(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "calls.create"
        form = request.form
        check_create_call(form)
        timeout = parse_timeout(first(form, "Timeout"))
        events = parse_events(form)
        self._created += 1
        now = self._clock()
        url = first(form, "Url")
        sid = self._reserved.pop(0) if self._reserved else sid_for("CA", f"{self._seed}:call:{self._created}")
        call = CallResource(
            sid=sid, account_sid=self.account_sid,
            to=first(form, "To") or "", from_=first(form, "From") or "", url=url,
            method=_method(form, "Method"),
            twiml=None if url else first(form, "Twiml"),  # with both, Twilio ignores Twiml
            application_sid=first(form, "ApplicationSid"), status_callback=first(form, "StatusCallback"),
            status_callback_method=_method(form, "StatusCallbackMethod"), events=events,
            status="queued", direction="outbound-api", date_created=now, date_updated=now,
            params={key: list(values) for key, values in form.items() if key not in CREDENTIAL_PARAMS},
            fallback_url=first(form, "FallbackUrl"), fallback_method=_method(form, "FallbackMethod"),
            timeout_s=timeout, history=[("queued", now)],
        )
        self.calls[call.sid] = call
        request.sid = call.sid
        await self._hooks.call_created(call)
        return 201, call.to_json()

    async def _list_calls(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "calls.list"
        filters = {"To": "to", "From": "from_", "Status": "status", "ParentCallSid": "parent_call_sid"}
        calls = [call for call in reversed(self.calls.values())
                 if all(first(request.form, param) in (None, getattr(call, attr)) for param, attr in filters.items())]
        return 200, page_of([call.to_json() for call in calls], "calls", request.path, request.form)

    async def _fetch_call(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "calls.fetch"
        return 200, self._call(request).to_json()

    async def _delete_call(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "calls.delete"
        call = self._call(request)
        del self.calls[call.sid]
        return 204, None

    async def _update_call(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "calls.update"
        call = self._call(request)
        form = request.form
        changes = {name: first(form, name) or "" for name in UPDATE_PARAMS if first(form, name) is not None}
        status = changes.get("Status")
        if status is not None and status not in ("completed", "canceled"):
            raise RestError(400, 21200, f"Status must be completed or canceled, not {status!r}")
        if "Url" in changes and "Twiml" in changes:
            raise RestError(400, 21200, "Url and Twiml are mutually exclusive on update")
        _raise_first(check_url(first(form, "Url"), "Url"), check_url(first(form, "StatusCallback"), "StatusCallback"),
                     check_methods(form), check_twiml(first(form, "Twiml")))
        if call.status in ENDED_STATUSES or (("Url" in changes or "Twiml" in changes) and call.status != "in-progress"):
            raise _not_in_progress(call, "update it.")
        if "Url" in changes:
            call.url, call.twiml, call.method = changes["Url"], None, _method(form, "Method")
        if "Twiml" in changes:
            call.twiml, call.url = changes["Twiml"], None
        if "StatusCallback" in changes:
            call.status_callback = changes["StatusCallback"]
        call.date_updated = self._clock()
        if status == "completed" or (status == "canceled" and call.status in NOT_ANSWERED_STATUSES):
            # completed hangs up a call at any stage; canceled only a call not yet answered
            self.set_status(call.sid, "completed" if call.status == "in-progress" else "canceled")
        await self._hooks.call_updated(call, changes)
        return 200, call.to_json()

    # -- recordings ------------------------------------------------------------------------------
    async def _create_recording(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "recordings.create"
        call = self._call(request)
        form = request.form
        _raise_first(check_enums(form, RECORDING_ENUMS), check_methods(form),
                     check_url(first(form, "RecordingStatusCallback"), "RecordingStatusCallback"))
        if call.status != "in-progress":
            raise _not_in_progress(call, "record it.")
        now = self._clock()
        events: list[str] = []
        for value in form.get("RecordingStatusCallbackEvent", ()):
            events.extend(value.split())
        recording = RecordingResource(
            sid=sid_for("RE", f"{call.sid}:{len(call.recordings) + 1}"), account_sid=self.account_sid,
            call_sid=call.sid, channels=2 if first(form, "RecordingChannels") == "dual" else 1,
            track=first(form, "RecordingTrack") or "both", status="in-progress", date_created=now,
            date_updated=now, start_time=now, status_callback=first(form, "RecordingStatusCallback"),
            status_callback_method=_method(form, "RecordingStatusCallbackMethod"),
            status_callback_events=tuple(events) or ("completed",),
        )
        call.recordings[recording.sid] = recording
        request.sid = recording.sid
        await self._hooks.recording_changed(call, recording)
        return 201, recording.to_json()

    async def _list_call_recordings(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "recordings.list"
        items = [recording.to_json() for recording in reversed(self._call(request).recordings.values())]
        return 200, page_of(items, "recordings", request.path, request.form)

    async def _list_account_recordings(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "recordings.list"
        items = [recording.to_json() for call in reversed(self.calls.values())
                 for recording in reversed(call.recordings.values())]
        return 200, page_of(items, "recordings", request.path, request.form)

    def _recording(self, request: _Request, call: CallResource) -> RecordingResource:
        sid = request.match["recording"]
        if sid == "Twilio.CURRENT":
            active = [r for r in call.recordings.values() if r.status in RECORDING_RUNNING]
            if active:
                sid = active[-1].sid
        request.sid = sid
        if sid not in call.recordings:
            raise _not_found(request)
        return call.recordings[sid]

    async def _fetch_recording(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "recordings.fetch"
        call = self._call(request)
        return 200, self._recording(request, call).to_json()

    async def _update_recording(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "recordings.update"
        call = self._call(request)
        recording = self._recording(request, call)
        status = first(request.form, "Status")
        if status not in ("paused", "in-progress", "stopped"):
            raise RestError(400, 21200, f"Status must be paused, in-progress or stopped, not {status!r}")
        behavior = first(request.form, "PauseBehavior")
        if behavior is not None and behavior not in ("skip", "silence"):
            raise RestError(400, 21200, f"PauseBehavior must be skip or silence, not {behavior!r}")
        if recording.status not in RECORDING_RUNNING:
            raise RestError(400, 21220, f"Recording {recording.sid} is {recording.status}; it cannot change")
        now = self._clock()
        if status == "stopped":
            self._stop_recording(recording, now)
        else:
            recording.status, recording.date_updated = status, now
        await self._hooks.recording_changed(call, recording)
        return 200, recording.to_json()

    @staticmethod
    def _stop_recording(recording: RecordingResource, now: datetime) -> None:
        recording.status, recording.date_updated = "stopped", now
        recording.duration_s = max(0, int((now - recording.start_time).total_seconds()))

    # -- streams ---------------------------------------------------------------------------------
    async def _create_stream(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "streams.create"
        call = self._call(request)
        form = request.form
        url = first(form, "Url")
        if not url:
            raise RestError(400, 21200, "Url is required to start a stream")
        track = first(form, "Track") or "inbound_track"
        if track not in ("inbound_track", "outbound_track", "both_tracks"):
            raise RestError(400, 21200, f"Track must be inbound_track, outbound_track or both_tracks, not {track!r}")
        if not url.startswith("wss://") and "://" in url:
            raise RestError(400, 31922, f"Stream Url must use wss, not {url!r}")
        _raise_first(check_methods(form), check_url(first(form, "StatusCallback"), "StatusCallback"))
        parameters = stream_parameters(form)
        name = first(form, "Name")
        if name and any(s.name == name and s.status == "in-progress" for s in call.streams.values()):
            raise RestError(400, 21200, f"a stream named {name!r} is already running on this call")
        if call.status != "in-progress":
            raise _not_in_progress(call, "start a stream.")
        stream = StreamResource(
            sid=sid_for("MZ", f"{call.sid}:rest:{len(call.streams) + 1}"), account_sid=self.account_sid,
            call_sid=call.sid, url=url, name=name, track=track, parameters=parameters, status="in-progress",
            date_updated=self._clock(), status_callback=first(form, "StatusCallback"),
            status_callback_method=_method(form, "StatusCallbackMethod"),
        )
        call.streams[stream.sid] = stream
        request.sid = stream.sid
        await self._hooks.stream_changed(call, stream)
        return 200, stream.to_json()

    async def _update_stream(self, request: _Request) -> tuple[int, dict | None]:
        request.resource = "streams.update"
        call = self._call(request)
        key = request.match["stream"]
        stream = call.streams.get(key) or next((s for s in call.streams.values() if s.name == key), None)
        if stream is None:
            raise _not_found(request)
        request.sid = stream.sid
        status = first(request.form, "Status")
        if status != "stopped":
            raise RestError(400, 21200, f"Status must be stopped, not {status!r}")
        stream.status, stream.date_updated = "stopped", self._clock()
        await self._hooks.stream_changed(call, stream)
        return 200, stream.to_json()


def _not_found(request: _Request) -> RestError:
    """Twilio's 404 (20404) for a path naming no resource of this account."""
    return RestError(404, 20404, f"The requested resource {request.path} was not found")


def _not_in_progress(call: CallResource, action: str) -> RestError:
    """Twilio's 21220 for a change only a live (in-progress) call accepts."""
    return RestError(400, 21220, f"Call is not in-progress (status {call.status}). Cannot {action}")


def _raise_first(*errors: RestError | None) -> None:
    """Raise the first problem found: Twilio answers one error per request, in check order."""
    for error in errors:
        if error is not None:
            raise error


def _method(form: Form, name: str) -> str:
    """An HTTP-method parameter, upper-cased, POST when absent (Twilio's default for every one)."""
    return (first(form, name) or "POST").upper()


async def _read_form(request: web.Request) -> dict[str, list[str]]:
    """Query and form body as ``name -> [values]``; repeated keys keep every value in order."""
    form: dict[str, list[str]] = {}
    for key, value in request.query.items():
        form.setdefault(key, []).append(value)
    if request.method in ("POST", "PUT") and request.content_type == "application/x-www-form-urlencoded":
        body: Any = await request.post()
        for key, value in body.items():
            if isinstance(value, str):
                form.setdefault(key, []).append(value)
    return form
