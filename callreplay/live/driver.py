"""One scenario played against the user's server: steps on wall time, calls, streams, frames.

The scenario's steps run at their ``at`` offsets from the replay's start, on the wall clock. A
webhook step that introduces a CallSid starts a call (Twilio requesting the number's voice URL);
``ws`` steps drive that call's media stream once its TwiML asked for one; ``realtime`` steps make
the emulated model speak on the call's session. Frames are sent by the run's one pacer at their
20 ms schedule (faults applied, as in-process). Steps that act on the in-process model's own
state (``settings``, ``cache``) cannot reach a real server and are recorded as not applicable.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
import numpy as np

from ..audio.frames import FrameBatch
from ..feeds import Feed, expand_media, noise_spans, start_feed
from ..pipeline.config import build_config
from ..pipeline.directions import normalize_call_direction
from ..recording import recording_chunks
from ..scenario.dialled import dialled_business
from ..scenario.model import EchoSpec, HttpStep, ProbeStep, RealtimeStep, Scenario, WebhookStep, WsStep
from ..trace import Trace
from ..twilio import twiml
from ..twilio.voice_params import DIRECTIONS
from .call import LiveCall
from .callbacks import ScriptedCallbacks
from .line_noise import open_line, with_line_noise
from .media_socket import LiveMediaSocket
from .probe import run_probe
from .recorder import LiveRecorder

if TYPE_CHECKING:  # pragma: no cover
    from .session import LiveSession

FRAME_US = 20_000
DRAIN_S = 1.0            # after the last step and the last frame: let the server answer, then hang up
MAX_CALL_WAIT_S = 10.0   # bound on waiting for a call's tasks at the end
PROBE_WAIT_S = 31.0      # probes still running at the end get this long (each is bounded by its own timeout)
SESSION_CLOSE_WAIT_S = 3.5
STREAM_OFFER_WAIT_S = 15.0  # a ws step waits this long at most for the TwiML that opens its stream (the webhook timeout)
LIVE_RECORDING_CHUNK = 250  # 5 s of a recording read at a time: a short read, off the other calls' frames
RECORDING_POLL_S = 0.2
ROUTE_FOR_DIRECTION = {"inbound": "incoming_call", "outbound": "outbound_call"}


def twilio_direction(step: WebhookStep) -> str:
    given = step.params.get("Direction") or step.query.get("Direction")
    if given:
        return given
    return "outbound-api" if step.route == "outbound_call" else "inbound"


@dataclass
class LiveResult:
    """What a live replay produced, shaped like the in-process ``ReplayResult`` where the two meet."""

    scenario: Scenario
    profile: str
    trace: Trace
    end_us: int
    target: str
    connections: dict[str, str] = field(default_factory=dict)


class LiveReplay:
    def __init__(self, scenario: Scenario, session: LiveSession) -> None:
        self.scenario = scenario
        self.session = session
        self.recorder = LiveRecorder()
        self.calls: dict[str, LiveCall] = {}
        self.feeds: list[tuple[LiveMediaSocket, Feed]] = []
        self.finished = False
        self._requests = 0
        self._ws_calls = {s.call for s in scenario.steps if isinstance(s, (WsStep,)) and s.call}
        self._echo_calls = {s.call for s in scenario.steps if isinstance(s, WsStep) and s.echo is not None}
        self.tasks: list[asyncio.Task[Any]] = []
        self.probes: list[asyncio.Task[Any]] = []
        self.expected_business: dict[str, int | None] = {}  # CallSid -> the business of the dialled number
        self.shares_server_log = False  # another replay ran against the same server at the same time

    # -- what the calls need from the replay ---------------------------------------------------------
    @property
    def http(self):
        return self.session.http

    @property
    def guard(self):
        return self.session.guard

    @property
    def auth_token(self) -> str:
        return self.session.auth_token

    @property
    def client_ssl(self):
        return self.session.client_ssl

    @property
    def max_wall_s(self) -> float:
        return self.session.options.max_wall_s

    def next_request_number(self) -> int:
        self._requests += 1
        return self._requests

    def has_ws_steps(self, sid: str) -> bool:
        return sid in self._ws_calls

    def socket_url(self, wss_url: str) -> str | None:
        return self.session.socket_url(wss_url)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def rest_status(self, sid: str, status: str) -> None:
        """Keep the REST emulator's record of the call where Twilio's is (fetch shows it, updates check it)."""
        rest = self.session.rest
        if rest is not None and sid in rest.calls and rest.calls[sid].status != status:
            rest.set_status(sid, status)

    def spawn(self, work: Any) -> None:
        """Run ``work`` alongside the replay (cancelled with it if still pending at the end)."""
        self.tasks.append(asyncio.ensure_future(work))

    async def stream_opened(self, call: LiveCall, sock: LiveMediaSocket) -> None:
        self.session.expect_realtime_connection(self, call.sid)

    # -- the run --------------------------------------------------------------------------------------
    async def run(self) -> LiveResult:
        rec = self.recorder
        scenario = self.scenario
        rec.emit(None, "replay", "replay.start", scenario=scenario.name, profile="live", mode="live", clock="wall",
                 target=self.session.target_label, clock_start=scenario.clock_start.isoformat()
                 if scenario.clock_start else None, businesses=[b.id for b in scenario.businesses],
                 prompt_cache_ttl_us=build_config(scenario.overrides).prompt_cache_ttl_us)
        self.session.replay_started(self)
        try:
            for step in scenario.steps:
                await self._until(step.at_us)
                await self._run_step(step)
            await self._until_fed(scenario.steps[-1].at_us if scenario.steps else 0)
            await asyncio.sleep(DRAIN_S)
            for call in list(self.calls.values()):
                if not call.ended.is_set():
                    await call.complete("completed", reason="scenario-ended")
            await self._wait_calls()
            if self.probes:
                await asyncio.wait(self.probes, timeout=PROBE_WAIT_S)
            # a session the server closes after Twilio's stop is closed within moments; session-not-closed
            # judges a 3 s bound, so wait a little longer than that before the trace is assembled
            await self.session.sessions_closed(self, SESSION_CLOSE_WAIT_S)
        finally:
            self.finished = True
            self.session.replay_finished(self)
            for task in self.tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        rec.emit(None, "replay", "replay.end", open_calls=sorted(s for s, c in self.calls.items()
                                                               if not c.ended.is_set()))
        mapping = self.session.connections_of(self)
        trace = rec.to_trace(mapping)
        return LiveResult(scenario, "live", trace, trace.events[-1].t_us if trace.events else 0,
                          self.session.target_label, mapping)

    async def _wait_calls(self) -> None:
        pending = [c.task for c in self.calls.values() if c.task is not None and not c.task.done()]
        if pending:
            await asyncio.wait(pending, timeout=MAX_CALL_WAIT_S)

    async def _until(self, t_us: int) -> None:
        delay = (t_us - self.recorder.now_us()) / 1e6
        if delay > 0:
            await asyncio.sleep(delay)

    async def _until_fed(self, last_step_us: int) -> None:
        """Until the last step and the last caller frame: a recording's later chunks are read as it plays."""
        while True:
            await self._until(max(self._feeds_end_us(), last_step_us))
            if not any(f.more is not None and not sock.closed for sock, f in self.feeds):
                return
            await asyncio.sleep(RECORDING_POLL_S)

    def _feeds_end_us(self) -> int:
        return max((int(f.batch.arrival_us[-1]) for _, f in self.feeds if len(f.batch)), default=0)

    # -- steps ----------------------------------------------------------------------------------------
    async def _run_step(self, step: Any) -> None:
        call = getattr(step, "call", None) or (step.params.get("CallSid") if isinstance(step, WebhookStep) else None)
        self.recorder.emit(call or None, "replay", "replay.step", index=step.index, action=step.action,
                           path=step.path, line=step.line)
        if isinstance(step, WebhookStep):
            await self._webhook(step)
        elif isinstance(step, WsStep):
            await self._ws(step)
        elif isinstance(step, RealtimeStep):
            await self._respond(step)
        elif isinstance(step, HttpStep):
            self.tasks.append(asyncio.ensure_future(self._app_request(step)))
        elif isinstance(step, ProbeStep):
            probe = asyncio.ensure_future(run_probe(self, step))
            self.probes.append(probe)
            self.tasks.append(probe)
        else:
            self.recorder.emit(None, "replay", "live.step_unsupported", action=step.action, path=step.path,
                               reason="it changes the in-process model's own state, which a live server does not "
                                      "expose")

    def target_url(self, path: str, query: dict[str, str]) -> str:
        url = self.session.target.rstrip("/") + (path if path.startswith("/") else "/webhook/" + path)
        return url + ("?" + urlencode(query) if query else "")

    async def _webhook(self, step: WebhookStep) -> None:
        sid = step.params.get("CallSid") or step.query.get("CallSid") or ""
        path = step.request_path if step.request_path.startswith("/") else f"/webhook/{step.route}"
        url = self.target_url(path, step.query)
        call = self.calls.get(sid)
        if call is None:
            direction = twilio_direction(step)
            call = self.add_call(sid, direction, step.params.get("From", ""), step.params.get("To", ""),
                                 extra={k: v for k, v in step.params.items()},
                                 business_hint=step.query.get("business_id"))
            route = ROUTE_FOR_DIRECTION.get(normalize_call_direction(direction), "incoming_call")
            call.task = asyncio.ensure_future(call.run(url, step.method, route=route))
            self.tasks.append(call.task)
        else:
            params = call.params(**step.params)
            self.tasks.append(asyncio.ensure_future(call.request(url, step.method, params, purpose="webhook",
                                                                 route=step.route or "webhook")))

    async def _app_request(self, step: HttpStep) -> None:
        """A request to the target's own API (e.g. "dial this lead"), as the app's users would make it."""
        url = self.target_url(step.request_path, step.query)
        self.session.api_replay = self
        if step.creates_call and self.session.rest is not None:
            self.session.rest.reserve_call_sid(step.creates_call)
        self.recorder.emit(None, "replay", "app.request", method=step.method, path=step.request_path,
                           json=step.json, form=step.form)
        try:
            async with self.http.request(step.method, url, json=step.json, data=step.form or None,
                                         headers=step.headers or None, ssl=self.client_ssl,
                                         timeout=aiohttp.ClientTimeout(total=15)) as response:
                body = await response.text(errors="replace")
                self.recorder.emit(None, "replay", "app.response", status=response.status, body=body[:4000])
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.recorder.emit(None, "replay", "app.failed", message=f"{type(exc).__name__}: {exc}"[:300])

    def place_rest_call(self, resource: Any) -> None:
        """The app created a call through the REST API: Twilio dials it and requests its Url."""
        call = self.add_call(resource.sid, "outbound-api", resource.from_, resource.to)
        if resource.status_callback:
            call.status_callback = (resource.status_callback, resource.status_callback_method or "POST")
            call.status_events = tuple(resource.events or ("completed",))
        script = next((step.status_callbacks for step in self.scenario.steps if isinstance(step, HttpStep)
                       and step.creates_call == resource.sid and step.status_callbacks is not None), None)
        if script is not None:
            call.scripted_callbacks = ScriptedCallbacks(script, call.send_status_callback, self.spawn,
                                                        functools.partial(self.recorder.emit, call.sid, "twilio",
                                                                          "callback.scripted"))
        call.task = asyncio.ensure_future(self._dial(call, resource))
        self.tasks.append(call.task)

    async def _dial(self, call: LiveCall, resource: Any) -> None:
        rest = self.session.rest
        for status in ("initiated", "ringing"):
            if rest is not None:
                rest.set_status(call.sid, status)
            call.status = status
            await call.status_callback_event(status)
        if rest is not None:
            rest.set_status(call.sid, "in-progress")
        call.status = "in-progress"
        await call.status_callback_event("answered")
        if resource.twiml:
            doc = twiml.parse_twiml(resource.twiml, "text/xml", resource.url or self.session.target)
            await call.run_document(doc)
        elif resource.url:
            await call.run(resource.url, resource.method or "POST", route="outbound_call")

    def rest_call_updated(self, resource: Any, changes: dict[str, Any]) -> None:
        call = self.calls.get(resource.sid)
        if call is None:
            return
        status = changes.get("status") or changes.get("Status")
        if status in ("completed", "canceled"):
            self.recorder.emit(call.sid, "twilio", "call.hangup_requested", by="rest-api", status=status)
            self.tasks.append(asyncio.ensure_future(call.complete(status, reason="rest-api-hangup")))
        elif changes.get("twiml") or changes.get("Twiml") or changes.get("url") or changes.get("Url"):
            self.tasks.append(asyncio.ensure_future(call.redirect(resource)))

    def add_call(self, sid: str, direction: str, from_: str, to: str, *, extra: dict[str, str] | None = None,
                 business_hint: str | None = None) -> LiveCall:
        call = LiveCall(sid, direction, from_, to, self, extra_params=dict(extra or {}))
        self.calls[sid] = call
        self.session.register_call(self, sid)
        if self.session.rest is not None and sid not in self.session.rest.calls:
            self.session.rest.add_call(sid, to, from_, direction=direction if direction in DIRECTIONS else "inbound")
        business = self._business_for(normalize_call_direction(direction), from_, to, business_hint)
        self.expected_business[sid] = business
        self.recorder.emit(sid, "replay", "call.business_expected", business_id=business,
                           direction=normalize_call_direction(direction), twilio_direction=direction,
                           rule="dialled number" if business_hint is None else "business_id in the URL")
        return call

    def _business_for(self, direction: str, from_: str, to: str, hint: str | None) -> int | None:
        """The ground truth: the business whose number was dialled (inbound: To; outbound: From)."""
        return dialled_business(self.scenario.businesses, direction, from_, to, hint)

    async def _ws(self, step: WsStep) -> None:
        call = self.calls.get(step.call)
        if call is not None:
            await call.stream_offered(STREAM_OFFER_WAIT_S)
        if call is not None and call.pending_stream is None and call.forks:
            sock: LiveMediaSocket | None = call.forks[0]  # a <Start><Stream> fork carries the caller's audio
        elif call is None or call.pending_stream is None:
            self.recorder.emit(step.call, "twilio", "ws.ignored", event=step.message, step=step.path,
                               reason="no stream: the call's TwiML has not asked for one")
            return
        else:
            sock = await call.open_stream()
        if sock is None or sock.closed:
            self.recorder.emit(step.call, "twilio", "ws.ignored", event=step.message, step=step.path,
                               reason="the stream is closed" if sock else "the stream could not be opened")
            return
        stream = sock.stream
        message = step.message
        await sock.catch_up()  # what was due before this step leaves first, numbered before it
        if step.call in self._echo_calls:
            sock.echo_from_now()
        if message == "connected":
            return
        if message == "start":
            await call.send_start(sock, step.custom_parameters, step.tracks, step.stream_sid)
        elif message == "media" and step.media is not None:
            chunks = None
            recorded = step.media.sources[0]
            if recorded.kind == "recording" and recorded.path is not None:
                # read as it plays, a few seconds at a time, exactly as recorded (no line noise added)
                chunks = recording_chunks(recorded.path, step.at_us, where=f"{step.path}.ws.media",
                                          chunk=LIVE_RECORDING_CHUNK, folder=self.scenario.side_files_folder,
                                          max_bytes=self.scenario.limits.side_file_bytes)
                first = next(chunks, None)
                if first is None:  # a recording without media lines: nothing to play
                    self.recorder.emit(step.call, "twilio", "ws.media", step=step.path, frames=0, first_us=None,
                                       last_us=None, stream_sid=stream.stream_sid, speech_spans=[])
                    return
                batch = first
            else:
                batch = with_line_noise(expand_media(self.scenario, step, stream.start_us or step.at_us), step.call,
                                        first_index=step.index * 1_000_003)
            late_us = self.recorder.now_us() - step.at_us
            if late_us > FRAME_US and len(batch):
                # the stream opened late (a slow webhook or socket): Twilio starts the caller's audio when the
                # stream can carry it, at real time, never as a burst of frames that are already due
                batch = batch.with_arrival(batch.arrival_us + late_us)
                chunks = _delayed(chunks, late_us) if chunks is not None else None
                self.recorder.emit(step.call, "twilio", "ws.media_late", step=step.path, late_us=late_us)
            noisy = noise_spans(self.scenario, step, batch)
            self.recorder.emit(step.call, "twilio", "ws.media", step=step.path, frames=len(batch),
                               first_us=int(batch.arrival_us[0]) if len(batch) else None,
                               last_us=int(batch.arrival_us[-1]) if len(batch) else None,
                               stream_sid=stream.stream_sid, speech_spans=speech_spans(batch, noisy),
                               **({"noise_spans": noisy} if noisy is not None else {}))
            self._pace(step.call, sock, batch, step.path, more=chunks, echo=step.echo)
        elif message == "mark":
            await sock.send(stream.mark_message(step.mark or ""))
        elif message == "dtmf":
            await sock.send(stream.dtmf_message(step.digit or ""))
        elif message == "stop":
            await sock.hang_up()
            await call.complete("completed", reason="caller-hangup")
        elif message == "close":
            await sock.drop()
            await call.complete("completed", reason="network-drop")
        elif message == "raw" and step.raw is not None:
            await sock.send_raw(dict(step.raw))

    def stream_silence(self, call: LiveCall, sock: LiveMediaSocket) -> None:
        """A call no ws step scripts: its line stays open and quiet until the scenario ends."""
        end = max((s.at_us for s in self.scenario.steps), default=0) + int(DRAIN_S * 1e6)
        self._pace(call.sid, sock, open_line(call.sid, self.recorder.now_us(), end), "live:open-line")

    def _pace(self, sid: str, sock: LiveMediaSocket, batch: Any, step_path: str,
              more: Iterator[FrameBatch] | None = None, echo: EchoSpec | None = None) -> None:
        """Hand caller frames to the run's pacer (numbered from the stream's counters when sent); ``more``:
        the further chunks of a recording, read when the pacer reaches them."""
        if not len(batch):
            return
        feed = start_feed(sid, batch, sock.stream, step_path, more=more)
        feed.echo = echo
        sock.feeds.append(feed)
        self.session.remember_audio(self, sid, batch)
        self.feeds.append((sock, feed))
        self.session.pacer.add(self.recorder, sock, feed)

    async def _respond(self, step: RealtimeStep) -> None:
        conn = self.session.connection_for(self, step.call)
        if conn is None:
            self.recorder.emit(step.call, "replay", "realtime.respond_ignored",
                               reason="no realtime session is known for this call")
            return
        await conn.start_response(duration_s=step.respond_duration_us / 1e6, reason="scripted")

def _delayed(chunks: Iterator[FrameBatch], late_us: int) -> Iterator[FrameBatch]:
    """A recording's further chunks, later by what its start was (it plays on from where it began)."""
    for chunk in chunks:
        yield chunk.with_arrival(chunk.arrival_us + late_us)


SPEECH_RMS = 500          # a frame this loud is caller speech (synthetic speech is 1,000-2,000; silence ~0)
MIN_SPEECH_FRAMES = 10    # 200 ms: shorter blips are not a turn anyone expects the model to hear


def speech_spans(batch: Any, noise: list[list[int]] | None = None) -> list[list[int]]:
    """[first_us, last_us, frames] of each run of speech frames in a media step (what the caller said, when);
    frames of a noise or music source (``noise``, from :func:`callreplay.feeds.noise_spans`) are never speech."""
    if not len(batch):
        return []
    loud = batch.rms() >= SPEECH_RMS
    for first, last, _ in noise or ():
        loud &= (batch.arrival_us < first) | (batch.arrival_us > last)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], loud.astype(np.int8), [0]))))
    spans = []
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= MIN_SPEECH_FRAMES:
            spans.append([int(batch.arrival_us[start]), int(batch.arrival_us[stop - 1]), int(stop - start)])
    return spans

