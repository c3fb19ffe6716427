"""The replay engine: feeds a scenario's steps through the virtual-time scheduler into the model.

One :func:`replay` call builds a fresh clock, scheduler, trace and :class:`PipelineApp`, holds the
wall clock at virtual time with freezegun, answers outbound HTTP with ``responses``, and walks
the steps in ``at`` order. Between two steps it runs, in time order, every scheduled task (the
model's background threads) and every frame of every media feed still playing; a task due at the
same microsecond as a frame runs first, and a step at the same microsecond as a task runs after it.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import numpy as np

from .audio.frames import FrameBatch
from .clock import VirtualClock
from .errors import ScenarioError
from .feeds import Feed, expand_media, media_feed_source, noise_spans, number_slice, protocol_problems, start_feed
from .pipeline.app import PipelineApp, Socket
from .pipeline.config import PipelineConfig, build_config
from .pipeline.context import PipelineContext
from .pipeline.outbound_http import OutboundHttp
from .pipeline.profiles import Profile, load_profile
from .pipeline.store import BusinessStore
from .pipeline.store_probe import probe_store
from .recording import recording_chunks
from .scenario.model import (
    CacheStep,
    HttpStep,
    ProbeStep,
    RealtimeStep,
    Scenario,
    SettingsStep,
    Step,
    WebhookStep,
    WsStep,
)
from .scheduler import Scheduler
from .trace import Trace

DRAIN_AFTER_LAST_STEP_US = 120_000_000


@dataclass
class ReplayResult:
    scenario: Scenario
    profile: Profile
    trace: Trace
    config: PipelineConfig
    app: PipelineApp = field(repr=False)
    end_us: int = 0


def replay(scenario: Scenario, profile: Profile | str, *, audio_impl: str = "fast", keep_audio: bool = False,
           allow_code: bool = False) -> ReplayResult:
    """Replay ``scenario`` under ``profile`` and return its trace (deterministic for the same inputs)."""
    profile = load_profile(profile, allow_code=allow_code)
    config = build_config(scenario.overrides)
    clock_start = scenario.clock_start
    assert clock_start is not None  # the loader always sets it
    clock = VirtualClock(clock_start)
    scheduler = Scheduler(clock)
    trace = Trace()
    ctx = PipelineContext(clock, scheduler, trace, BusinessStore.from_specs(scenario.businesses, scenario.timezone), config, profile,
                          timezone=scenario.timezone)
    with clock, OutboundHttp(ctx) as http:
        ctx.http = http
        app = PipelineApp(ctx, audio_impl=audio_impl, keep_audio=keep_audio)
        engine = _Engine(scenario, ctx, app)
        ctx.emit(None, "replay", "replay.start", scenario=scenario.name, profile=profile.name,
                 clock_start=clock_start.isoformat(), profile_class=profile.class_name,
                 businesses=[b.id for b in scenario.businesses], prompt_cache_ttl_us=config.prompt_cache_ttl_us)
        for step in scenario.steps:
            engine.advance(step.at_us, include_tasks_at_limit=True)
            engine.run_step(step)
        last = scenario.steps[-1].at_us if scenario.steps else 0
        engine.advance(max(last, engine.feeds_end_us()) + DRAIN_AFTER_LAST_STEP_US, include_tasks_at_limit=True)
        ctx.emit(None, "stream_registry", "registry.final", entries=app.registry.final_state())
        open_calls = sorted(sid for sid, h in app.handlers.items() if not h.closed)
        ctx.emit(None, "replay", "replay.end", open_calls=open_calls)
    return ReplayResult(scenario, profile, trace, config, app, clock.now_us)


class _Engine:
    def __init__(self, scenario: Scenario, ctx: PipelineContext, app: PipelineApp) -> None:
        self.scenario = scenario
        self.ctx = ctx
        self.app = app
        self.feeds: list[Feed] = []

    def feeds_end_us(self) -> int:
        return max((f.end_us() for f in self.feeds if len(f.batch)), default=0)

    # -- time ---------------------------------------------------------------------------------------
    def advance(self, limit_us: int, *, include_tasks_at_limit: bool) -> None:
        """Run tasks and feed frames in time order up to ``limit_us`` (frames strictly before it)."""
        scheduler, clock = self.ctx.scheduler, self.ctx.clock
        while True:
            live = []
            for f in self.feeds:
                f.refill()
                if not f.done and not self.app.sockets[f.call].closed:
                    live.append(f)
            self.feeds = live
            task_us = scheduler.next_due_us()
            if task_us is not None and not (task_us < limit_us or (include_tasks_at_limit and task_us == limit_us)):
                task_us = None  # due after this advance
            feed = live[0] if len(live) == 1 else min(live, key=lambda f: f.next_us(), default=None)
            feed_us = feed.next_us() if feed is not None else None
            if feed_us is not None and feed_us >= limit_us:
                feed = feed_us = None  # its next frame is after this advance
            if task_us is not None and (feed_us is None or task_us <= feed_us):
                scheduler.run_until(task_us)
                continue
            if feed is None:
                break
            # Only this call's tasks (and shared ones) bound its slice: calls interact through tasks alone.
            own_us = scheduler.next_due_for(feed.call)
            self._deliver(feed, limit_us if own_us is None else min(own_us, limit_us))
        clock.move_to(limit_us)

    def _deliver(self, feed: Feed, bound_us: int) -> None:
        batch = feed.batch
        start = feed.pos
        stop = bisect.bisect_left(batch.arrival_us, bound_us, lo=start)
        stop = max(stop, start + 1)
        sock = self.app.sockets[feed.call]
        self.ctx.clock.move_to(int(batch.arrival_us[start]), sync_wall_clock=False)
        self.ctx.scheduler.current_owner = feed.call
        previous = sock.stream.seq
        wire = number_slice(feed, stop, sock.stream)
        reached = sock.handler.process_frames(batch, start, stop)
        if reached < stop:  # a VAD event cut the slice: the rest is numbered (and checked) again later
            sock.stream.seq = int(batch.seq[reached - 1]) if reached > start else previous
        noticed = max(self.ctx.clock.now_us, int(batch.arrival_us[reached - 1]))
        for problem in protocol_problems(previous, wire[:reached - start], batch, start, reached, feed.consecutive):
            # checked once, over exactly the frames delivered; stamped when the slice was done (at_us is the frame's)
            self.ctx.trace.emit(noticed, feed.call, "twilio", "ws.protocol", step=feed.step_path, **problem)
        feed.pos = reached
        self.ctx.scheduler.current_owner = None
        self.ctx.clock.move_to(max(self.ctx.clock.now_us, int(batch.arrival_us[reached - 1])), sync_wall_clock=False)

    # -- steps --------------------------------------------------------------------------------------
    def run_step(self, step: Step) -> None:
        owner = getattr(step, "call", None) or (step.params.get("CallSid") if isinstance(step, WebhookStep) else None)
        self.ctx.scheduler.current_owner = owner or None
        try:
            self._run_step(step)
        finally:
            self.ctx.scheduler.current_owner = None

    def _run_step(self, step: Step) -> None:
        self.ctx.emit(getattr(step, "call", None) or None, "replay", "replay.step", index=step.index,
                      action=step.action, path=step.path, line=step.line)
        if isinstance(step, WebhookStep):
            response = self.app.webhooks.handle(step)
            sid = step.params.get("CallSid") or step.query.get("CallSid")
            if sid and response.body and "<Stream" in response.body:
                self.app.twiml_parameters[sid] = stream_parameters(response.body)
        elif isinstance(step, WsStep):
            self._ws(step)
        elif isinstance(step, SettingsStep):
            version = self.ctx.store.change(step.business, step.changes)
            self.ctx.emit(None, "store", "settings.changed", business_id=step.business, changes=step.changes,
                          version=version, invalidate_cache=step.invalidate_cache)
            self.app.settings_changed(step.business, invalidate_cache=step.invalidate_cache)
        elif isinstance(step, CacheStep):
            if step.op == "clear":
                self.app.cache.clear()
            else:
                self.app.cache.invalidate(step.business, step.direction)
        elif isinstance(step, RealtimeStep):
            handler = self.app.handlers.get(step.call) or (self.app.sockets[step.call].handler
                                                           if step.call in self.app.sockets else None)
            if handler is None:
                self.ctx.emit(step.call, "replay", "realtime.respond_ignored", reason="no stream for this call")
            else:
                handler.respond(step.respond_duration_us)
        elif isinstance(step, HttpStep):
            self.ctx.emit(step.creates_call, "replay", "replay.step_skipped", path=step.path,
                          reason="a request to the target's own API: live mode only")
        elif isinstance(step, ProbeStep):
            probe_store(self.ctx, step.call, step.path)

    def _ws(self, step: WsStep) -> None:
        app, ctx = self.app, self.ctx
        sock = app.socket(step.call)
        message = step.message
        event = _raw_message(step).get("event") if message == "raw" else message
        if sock.closed:
            ctx.emit(step.call, "twilio", "ws.ignored", event=event, reason=sock.close_reason or "closed",
                     step=step.path)
            if event == "media" and sock.close_reason == "twilio_stop_event":
                # Twilio itself said stop and then sent audio. A socket the application closed (hard limit,
                # rejected call) simply never receives the scenario's later audio: no rule broken there.
                ctx.emit(step.call, "twilio", "ws.protocol", problem="media-after-stop", count=1, step=step.path,
                         at_us=ctx.now)
            return
        stream, handler = sock.stream, sock.handler
        if message == "raw":
            self._raw(sock, step)
            return
        if not stream.connected and message != "close":
            self._send(sock, stream.connected_message())
        if message == "connected":
            return
        if message == "start":
            if stream.started:
                ctx.emit(step.call, "twilio", "ws.protocol", problem="duplicate-start", count=1, step=step.path,
                         at_us=ctx.now)
            self._send(sock, stream.start_message(ctx.now, step.custom_parameters, step.tracks, step.stream_sid))
        elif message == "media":
            assert step.media is not None  # the loader gives every media step its sources
            source = step.media.sources[0]
            if source.kind == "recording":
                assert source.path is not None  # the loader gives every recording source its path
                chunks = recording_chunks(source.path, step.at_us, where=f"{step.path}.ws.media",
                                          folder=self.scenario.side_files_folder,
                                          max_bytes=self.scenario.limits.side_file_bytes)
                batch = next(chunks, None) or expand_media(self.scenario, _no_media(step), step.at_us)
                feed = start_feed(step.call, batch, stream, step.path, more=chunks)
            else:
                batch, paced = media_feed_source(self.scenario, step, stream.start_us or step.at_us)
                feed = start_feed(step.call, batch, stream, step.path, paced=paced)
            noisy = noise_spans(self.scenario, step, batch)
            ctx.emit(step.call, "twilio", "ws.media", step=step.path,
                     frames=feed.paced.total if feed.paced else len(batch),
                     first_us=int(batch.arrival_us[0]) if len(batch) else None,
                     last_us=feed.end_us() if len(batch) else None, stream_sid=stream.stream_sid,
                     **({"noise_spans": noisy} if noisy is not None else {}))
            if step.echo is not None:
                ctx.emit(step.call, "replay", "replay.step_skipped", path=f"{step.path}.echo",
                         reason="echo: the in-process model's audio has no samples to echo; live mode mixes it")
            if len(batch):
                self.feeds.append(feed)
                sock.feeds.append(feed)
        elif message == "mark":
            assert step.mark is not None  # the schema requires the mark's name
            self._send(sock, stream.mark_message(step.mark))
        elif message == "dtmf":
            assert step.digit is not None  # the schema requires the digit
            self._send(sock, stream.dtmf_message(step.digit))
        elif message == "stop":
            self._send(sock, stream.stop_message())
            app.shutdown_socket(handler, "twilio_stop_event")
        elif message == "close":
            ctx.emit(step.call, "twilio", "ws.dropped", step=step.path)
            app.shutdown_socket(handler, "connection_closed")
            handler.on_socket_closed()

    def _send(self, sock: Socket, msg: dict) -> None:
        sock.counting_message()
        self.ctx.emit(sock.call, "twilio", "ws.in", event=msg.get("event"), message=msg)
        sock.handler.on_message(msg)

    def _raw(self, sock: Socket, step: WsStep) -> None:
        """A message exactly as Twilio sent it (recorded): passed through, numbers and all."""
        ctx, msg = self.ctx, _raw_message(step)
        event = msg.get("event")
        stream = sock.stream
        seq_text = msg.get("sequenceNumber")
        try:
            seq = int(seq_text) if seq_text is not None else None
        except (TypeError, ValueError):
            seq = None
            ctx.emit(step.call, "twilio", "ws.protocol", problem="bad-sequence-number", count=1, step=step.path,
                     value=str(seq_text)[:40], at_us=ctx.now)
        if event == "connected":
            stream.connected = True
        elif event == "start":
            if stream.started:
                ctx.emit(step.call, "twilio", "ws.protocol", problem="duplicate-start", count=1, step=step.path,
                         at_us=ctx.now)
            stream.started, stream.start_us = True, stream.start_us or ctx.now
            sid = (msg.get("start") or {}).get("streamSid") or msg.get("streamSid")
            if sid:
                stream.stream_sid = sid
        elif event == "media":
            self._raw_media(sock, step, seq)
            return
        if seq is not None:
            stream.seq = max(stream.seq, seq)
        ctx.emit(step.call, "twilio", "ws.in", event=event, message=msg, raw=True)
        sock.handler.on_message(msg)
        if event == "stop":
            self.app.shutdown_socket(sock.handler, "twilio_stop_event")

    def _raw_media(self, sock: Socket, step: WsStep, seq: int | None) -> None:
        ctx, msg, stream = self.ctx, _raw_message(step), sock.stream
        media = msg.get("media") or {}
        if msg.get("streamSid") and msg.get("streamSid") != stream.stream_sid:
            ctx.emit(step.call, "twilio", "ws.protocol", problem="unknown-stream", count=1, step=step.path,
                     stream_sid=msg.get("streamSid"), at_us=ctx.now)
            return
        try:
            payload = base64.b64decode(media.get("payload", ""), validate=True)
        except (binascii.Error, ValueError):
            ctx.emit(step.call, "twilio", "ws.protocol", problem="bad-payload", count=1, step=step.path, at_us=ctx.now)
            return
        wire_seq = seq if seq is not None else stream.seq + 1
        previous = stream.seq
        batch = FrameBatch.build([payload], np.array([ctx.now]), np.array([wire_seq]),
                                 np.array([int(media.get("chunk") or 0)]), np.array([int(media.get("timestamp") or 0)]),
                                 b64=[media.get("payload", "")])
        for problem in protocol_problems(previous, np.array([wire_seq]), batch, 0, 1):
            ctx.emit(step.call, "twilio", "ws.protocol", step=step.path, **problem)
        stream.seq = max(stream.seq, wire_seq)
        if media.get("track", "inbound") != "inbound":  # what echo-forwarded reads: a frame of the bot's own track
            ctx.emit(step.call, "twilio", "ws.in", event="media", message=msg, raw=True, seq=wire_seq)
        sock.handler.process_frames(batch, 0, 1)


def _raw_message(step: WsStep) -> dict[str, Any]:
    """The recorded message of a ``raw`` ws step (the loader sets it for every one)."""
    assert step.raw is not None
    return step.raw


def _no_media(step: WsStep) -> WsStep:
    """An empty media step (a recording with no media lines)."""
    import dataclasses

    from .scenario.model import MediaSpec, SourceSpec

    return dataclasses.replace(step, media=MediaSpec((SourceSpec("payloads"),)), faults=None)


def stream_parameters(twiml: str) -> dict[str, str]:
    """The ``<Parameter>``s of the TwiML's ``<Stream>``: Twilio hands them back as customParameters."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError as exc:
        raise ScenarioError(f"the webhook returned TwiML that does not parse: {exc}") from None
    # a <Parameter> without a name is dropped, as Twilio drops it (check_stream warns of it, 12200)
    return {name: p.get("value", "") for p in root.iter("Parameter") if (name := p.get("name")) is not None}
