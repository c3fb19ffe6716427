"""One call as Twilio carries it: webhooks requested and signed, TwiML followed, the stream opened.

The call fetches its TwiML the way Twilio does (form-encoded, standard voice parameters,
``X-Twilio-Signature``), records every request and answer, judges the TwiML against Twilio's rules
(problems become trace events, never exceptions) and walks its verbs: ``<Say>``/``<Play>``/
``<Pause>`` take time, ``<Redirect>`` fetches a new document, ``<Connect><Stream>`` holds the call
until the socket closes and then requests ``action`` (or goes on), ``<Start><Stream>`` forks and
goes on, ``<Hangup>`` or the end of the document ends the call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from ..twilio import twiml
from ..twilio import twiml_actions as flow
from ..twilio.ids import ACCOUNT_SID, stream_sid_for
from ..twilio.signature import webhook_signature, websocket_signature
from ..twilio.stream import TwilioStream
from ..twilio.voice_params import (
    CALL_STATUSES,
    DIRECTIONS,
    call_status_callback_params,
    stream_status_callback_params,
    voice_webhook_params,
)
from .callbacks import ScriptedCallbacks
from .media_socket import LiveMediaSocket

if TYPE_CHECKING:  # pragma: no cover
    from .driver import LiveReplay

WEBHOOK_TIMEOUT_S = 15.0  # Twilio's read/total timeout for a TwiML fetch (error 11205 / 11200)
MAX_DOCUMENTS = 20        # redirects/actions followed per call before giving up (a loop guard)
TERMINAL = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass
class LiveCall:
    sid: str
    direction: str                 # Twilio's value: inbound | outbound-api | outbound-dial
    from_: str
    to: str
    replay: LiveReplay
    extra_params: dict[str, str] = field(default_factory=dict)
    status: str = "ringing"
    socket: LiveMediaSocket | None = None
    forks: list[LiveMediaSocket] = field(default_factory=list)
    stream_parameters: dict[str, str] = field(default_factory=dict)
    status_callback: tuple[str, str] | None = None   # (url, method) given to the REST API
    status_events: tuple[str, ...] = ("completed",)
    callback_seq: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    answered_at_us: int | None = None
    pending_stream: Any = None       # a ConnectStream waiting for the scenario's first ws step
    stream_ready: asyncio.Event = field(default_factory=asyncio.Event)
    redirect_to: twiml.TwimlDocument | None = None
    completing: bool = False
    scripted_callbacks: ScriptedCallbacks | None = None  # a scenario's late, missing or out-of-order callbacks

    @property
    def rec(self):
        return self.replay.recorder

    def params(self, **overrides: str) -> dict[str, str]:
        extra = {**self.extra_params, **overrides}
        direction = self.direction if self.direction in DIRECTIONS else "inbound"
        base = voice_webhook_params(self.sid, self.from_, self.to, direction, _known_status(self.status),
                                    extra=extra, account_sid=ACCOUNT_SID)
        return base

    # -- HTTP -------------------------------------------------------------------------------------
    async def request(self, url: str, method: str, params: dict[str, str], *, purpose: str,
                      route: str | None = None) -> tuple[int | None, str, str | None]:
        """One signed request to the target: (status or None if it failed, body, content type)."""
        replay = self.replay
        method = (method or "POST").upper()
        url = replay.session.http_url(url)
        if not replay.guard.allowed(url):
            self.rec.emit(self.sid, "twilio", "webhook.refused_host", url=url, purpose=purpose)
            return None, "", None
        target_url = url
        if method == "GET":
            split = urlsplit(url)
            query = (split.query + "&" if split.query else "") + urlencode(params)
            target_url = urlunsplit(split._replace(query=query))
            signature = webhook_signature(target_url, {}, replay.auth_token)
            data = None
        else:
            signature = webhook_signature(url, params, replay.auth_token)
            data = params
        self.rec.emit(self.sid, "webhook", "webhook.request", route=route or purpose, path=urlsplit(url).path,
                      url=url, method=method, form=params if method == "POST" else {},
                      query={} if method == "POST" else params, purpose=purpose, direction=self.direction)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1 (callreplay)",
                   "I-Twilio-Idempotency-Token": f"{self.sid}-{replay.next_request_number()}"}
        try:
            async with replay.http.request(method, target_url, data=data, headers=headers, ssl=replay.client_ssl,
                                           timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S),
                                           allow_redirects=False) as response:
                body = await response.text(errors="replace")
                content_type = response.headers.get("Content-Type")
                self.rec.emit(self.sid, "webhook", "webhook.response", route=route or purpose, status=response.status,
                              body=body[:65536], content_type=content_type, purpose=purpose)
                return response.status, body, content_type
        except TimeoutError:
            self.rec.emit(self.sid, "webhook", "webhook.failed", code=11205, reason="timeout",
                          message=f"no answer within {WEBHOOK_TIMEOUT_S:.0f} s", purpose=purpose,
                          url=url)
        except aiohttp.ClientError as exc:
            self.rec.emit(self.sid, "webhook", "webhook.failed", code=11200, reason="connection",
                          message=f"{type(exc).__name__}: {exc}"[:300], purpose=purpose, url=url)
        return None, "", None

    async def fetch_twiml(self, url: str, method: str, params: dict[str, str], *, purpose: str,
                          route: str | None = None) -> twiml.TwimlDocument | None:
        status, body, content_type = await self.request(url, method, params, purpose=purpose, route=route)
        if status is None:
            return None
        if not 200 <= status < 300:
            self.rec.emit(self.sid, "twilio", "twiml.problem", code=11200, level="error",
                          message=f"the TwiML request answered HTTP {status}", location=purpose, http_status=status)
            return None
        doc = twiml.parse_twiml(body, content_type, url)
        for problem in doc.problems:
            self.rec.emit(self.sid, "twilio", "twiml.problem", code=problem.code, level=problem.level,
                          message=problem.message, location=problem.location, purpose=purpose)
        return doc

    # -- the call's life --------------------------------------------------------------------------
    async def run(self, url: str, method: str, *, route: str) -> None:
        """Fetch the first document and execute TwiML until the call ends."""
        doc = await self.fetch_twiml(url, method, self.params(), purpose="voice-url", route=route)
        await self.run_document(doc)

    async def run_document(self, doc: twiml.TwimlDocument | None) -> None:
        try:
            documents = 1
            while doc is not None:
                nxt = await self.execute(doc)
                if self.redirect_to is not None:
                    doc, self.redirect_to = self.redirect_to, None
                    continue
                if nxt is None:
                    break
                documents += 1
                if documents > MAX_DOCUMENTS:
                    self.rec.emit(self.sid, "twilio", "twiml.problem", code=11200, level="error",
                                  message=f"more than {MAX_DOCUMENTS} TwiML documents for one call", location="flow")
                    break
                doc = await self.fetch_twiml(nxt[0], nxt[1], self.params(**nxt[2]), purpose=nxt[3])
        finally:
            await self.complete("completed" if self.answered_at_us is not None else "failed", reason="twiml-ended")

    async def redirect(self, resource: Any) -> None:
        """The app replaced the call's TwiML through the REST API: the current document is abandoned."""
        if resource.twiml:
            doc: twiml.TwimlDocument | None = twiml.parse_twiml(resource.twiml, "text/xml",
                                                               resource.url or self.replay.target_url("/", {}))
        else:
            doc = await self.fetch_twiml(resource.url, resource.method or "POST", self.params(), purpose="rest-update")
        if doc is None:
            return
        self.redirect_to = doc
        for sock in [self.socket, *self.forks]:
            if sock is not None and not sock.closed:
                await sock.hang_up()
        self.socket, self.forks, self.pending_stream = None, [], None

    def answer(self) -> None:
        if self.answered_at_us is None:
            self.answered_at_us = self.rec.now_us()
            self.status = "in-progress"
            self.replay.rest_status(self.sid, "in-progress")
            self.rec.emit(self.sid, "twilio", "call.answered")

    async def execute(self, doc: twiml.TwimlDocument) -> tuple[str, str, dict[str, str], str] | None:
        """Walk one document; return the next document to fetch (url, method, extra params, purpose) or None."""
        walked = flow.walk(doc)
        for problem in walked.problems:
            self.rec.emit(self.sid, "twilio", "twiml.problem", code=problem.code, level=problem.level,
                          message=problem.message, location=problem.location, purpose="walk")
        for action in walked.actions:
            if self.ended.is_set() or self.redirect_to is not None:
                return None
            name = type(action).__name__
            self.rec.emit(self.sid, "twilio", "twiml.verb", verb=name, **_public_fields(action))
            if isinstance(action, (flow.Say, flow.Play, flow.Pause)):
                self.answer()
                await self.replay.sleep(min(_seconds(action), self.replay.max_wall_s))
            elif isinstance(action, flow.Gather):
                self.answer()
                for prompt in action.prompts:
                    await self.replay.sleep(min(_seconds(prompt), self.replay.max_wall_s))
                await self.replay.sleep(float(action.timeout))
                if action.action_on_empty_result:
                    return twiml.resolve_url(doc.url, action.action), action.method, {}, "gather-action"
            elif isinstance(action, flow.Redirect):
                return twiml.resolve_url(doc.url, action.url), action.method or "POST", {}, "redirect"
            elif isinstance(action, (flow.Hangup, flow.Reject, flow.End)):
                if isinstance(action, flow.Hangup):
                    self.rec.emit(self.sid, "twilio", "call.hangup_requested", by="twiml")
                return None
            elif isinstance(action, flow.StartStream):
                self.answer()
                sock = self.make_socket(action, doc.url, bidirectional=False)
                if sock is not None and await sock.open():
                    self.forks.append(sock)
                    self.stream_ready.set()
                    await self.replay.stream_opened(self, sock)
                    await sock.send(sock.stream.connected_message())
                    await self.send_start(sock, dict(action.parameters), None, None)
                    await self.stream_callback(action, doc.url, sock, "stream-started")
            elif isinstance(action, flow.StopStream):
                for sock in self.forks:
                    await sock.hang_up()
            elif isinstance(action, flow.ConnectStream):
                self.answer()
                closed_by = await self.connect_stream(action, doc.url)
                if self.redirect_to is not None:
                    return None
                if closed_by != "server" or self.ended.is_set():
                    return None  # the caller hung up, or the socket never opened: the call is over
                if action.action:
                    return (twiml.resolve_url(doc.url, action.action), action.method or "POST", {},
                            "connect-action")
            else:
                self.rec.emit(self.sid, "twilio", "twiml.unsupported", verb=name)
        return None

    def make_socket(self, action: Any, doc_url: str, *, bidirectional: bool) -> LiveMediaSocket | None:
        replay = self.replay
        wss_url = twiml.resolve_url(doc_url, action.url)
        connect_url = replay.socket_url(wss_url)
        if connect_url is None:
            self.rec.emit(self.sid, "twilio", "ws.refused", code=31922, url=wss_url,
                          message="the stream URL is not one callreplay may connect to")
            return None
        stream = TwilioStream(self.sid, stream_sid_for(self.sid), dict(action.parameters),
                              schedule=lambda *_: None, deliver=lambda _msg: None)
        headers = {"X-Twilio-Signature": websocket_signature(wss_url, replay.auth_token)}
        return LiveMediaSocket(self.sid, connect_url, wss_url, stream, self.rec, bidirectional, headers,
                               ssl=replay.client_ssl if connect_url.startswith("wss:") else None,
                               pacer=replay.session.pacer)

    async def stream_offered(self, timeout_s: float) -> None:
        """Wait (bounded) until the call's TwiML has asked for a stream or the call has ended.

        A slow webhook answers after the time the scenario scripted the stream's first message;
        Twilio cannot carry the caller's audio before the stream exists, so the message waits.
        """
        if self.pending_stream is not None or self.forks or self.socket is not None or self.ended.is_set():
            return
        waits = [asyncio.ensure_future(self.stream_ready.wait()), asyncio.ensure_future(self.ended.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def connect_stream(self, action: Any, doc_url: str) -> str | None:
        """Open the bidirectional stream when the scenario's first ws step comes (or now) and wait for its end."""
        self.stream_parameters = dict(action.parameters)
        self.pending_stream = (action, doc_url)
        self.stream_ready.set()
        if not self.replay.has_ws_steps(self.sid):
            # no ws step scripts this call (e.g. one the app created through the REST API): Twilio starts the
            # stream at once and the caller stays silent until the scenario ends
            sock = await self.open_stream()
            if sock is not None and not sock.closed:
                await self.send_start(sock, None, None, None)
                self.replay.stream_silence(self, sock)
        done = asyncio.ensure_future(self.ended.wait())
        while self.socket is None and not self.ended.is_set():
            await asyncio.wait([done], timeout=0.05)
        if self.socket is None:
            done.cancel()
            return None
        waiter = asyncio.ensure_future(self.socket.closed_event.wait())
        await asyncio.wait([waiter, done], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        done.cancel()
        return self.socket.closed_by if self.socket.closed else None

    async def send_start(self, sock: LiveMediaSocket, custom_parameters: dict[str, str] | None,
                         tracks: tuple[str, ...] | None, stream_sid: str | None) -> None:
        params = custom_parameters if custom_parameters is not None else self.stream_parameters
        await sock.send(sock.stream.start_message(self.rec.now_us(), params, tracks, stream_sid))
        self.rec.emit(self.sid, "twilio", "call.started", stream_sid=sock.stream.stream_sid,
                      custom_parameters=dict(params or {}))

    async def open_stream(self) -> LiveMediaSocket | None:
        if self.socket is not None or self.pending_stream is None:
            return self.socket
        action, doc_url = self.pending_stream
        sock = self.make_socket(action, doc_url, bidirectional=True)
        if sock is None:
            self.ended.set()
            return None
        self.socket = sock
        if not await sock.open():
            await self.stream_callback(action, doc_url, sock, "stream-error")
            return sock
        await sock.send(sock.stream.connected_message())
        await self.replay.stream_opened(self, sock)
        await self.stream_callback(action, doc_url, sock, "stream-started")
        sock.on_closed = lambda s, a=action, u=doc_url: self.replay.spawn(self.stream_callback(a, u, s, "stream-stopped"))
        return sock

    async def stream_callback(self, action: Any, doc_url: str, sock: LiveMediaSocket, event: str) -> None:
        """``<Stream statusCallback>``: stream-started, stream-stopped, stream-error (twilio-voice.md §3.2)."""
        if not getattr(action, "status_callback", None):
            return
        url = twiml.resolve_url(doc_url, action.status_callback)
        params = stream_status_callback_params(self.sid, sock.stream.stream_sid, action.name, event,
                                               datetime.now(UTC), account_sid=ACCOUNT_SID)
        await self.request(url, action.status_callback_method or "POST", params, purpose="stream-status-callback",
                           route="stream_status")

    async def complete(self, status: str, *, reason: str) -> None:
        """The call is over: close what is open, send the status callbacks the app asked for."""
        if self.status in TERMINAL or self.completing:
            return
        self.completing = True
        for sock in [self.socket, *self.forks]:
            if sock is not None and not sock.closed:
                await sock.hang_up()
        self.status = status
        self.replay.rest_status(self.sid, status)
        self.rec.emit(self.sid, "twilio", "call.ended", reason=reason, status=status)
        self.ended.set()
        await self.status_callback_event("completed")
        if self.scripted_callbacks is not None:
            await self.scripted_callbacks.call_ended()

    async def status_callback_event(self, event: str) -> None:
        """The callback of ``event``, its parameters fixed now; sent now, or as the scenario scripts it."""
        if self.status_callback is None or event not in self.status_events:
            return
        duration_s = None
        if event == "completed" and self.answered_at_us is not None:
            duration_s = (self.rec.now_us() - self.answered_at_us) // 1_000_000
        params = call_status_callback_params(self.params(), _known_status(self.status), self.callback_seq,
                                             datetime.now(UTC), duration_s)
        self.callback_seq += 1
        if self.scripted_callbacks is not None:
            await self.scripted_callbacks.deliver(event, params)
        else:
            await self.send_status_callback(event, params)

    async def send_status_callback(self, event: str, params: dict[str, str]) -> None:
        if self.status_callback is None:
            return
        url, method = self.status_callback
        status, _, _ = await self.request(url, method, params, purpose="status-callback", route="call_status")
        if status is not None and not 200 <= status < 300:
            self.rec.emit(self.sid, "twilio", "callback.failed", url=url, http_status=status, event=event)


def _known_status(status: str) -> str:
    return status if status in CALL_STATUSES else "in-progress"


PLAY_SECONDS = 1.0  # a <Play> of a URL we do not fetch: one second per loop (documented in docs/live.md)


def _seconds(action: Any) -> float:
    if isinstance(action, flow.Say):
        return float(action.seconds)
    if isinstance(action, flow.Pause):
        return float(action.seconds)
    loops = action.loop if action.loop > 0 else 1
    return PLAY_SECONDS * loops + flow.DIGIT_SECONDS * len(action.digits)


def _public_fields(action: Any) -> dict[str, Any]:
    fields = getattr(action, "__dataclass_fields__", {})
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(action, name)
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[name] = value
        elif isinstance(value, dict):
            out[name] = {str(k): str(v) for k, v in value.items()}
    return out
