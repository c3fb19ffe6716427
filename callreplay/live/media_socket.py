"""Twilio's end of one Media Streams WebSocket, over a real connection to the user's server.

Messages towards the server are built by :class:`callreplay.twilio.stream.TwilioStream`, the
same code the in-process engine uses, and numbered from its one counter. What the server sends
back is judged the way Twilio judges it (``shared/twilio-voice.md`` §7): text JSON only, known
events, this stream's ``streamSid``, base64 mu-law payloads; outbound audio plays out at 20 ms a
frame, a ``mark`` is echoed once the audio queued before it has played, and ``clear`` empties the
queue and echoes every pending mark at once. Every problem is recorded, none is fatal.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, ProtocolError
from websockets.frames import DATA_OPCODES, Frame, Opcode
from websockets.protocol import State

from ..audio.mulaw import SQUARES
from ..audio.signature import mulaw_signature
from ..errors import ScenarioError
from ..feeds import FRAME_BYTES, Feed, number_slice, protocol_problems
from ..twilio.stream import TwilioStream
from .echo_line import EchoLine
from .recorder import LiveRecorder
from .ws_fast import TextFrameReader, client_text_frame

FRAME_US = 20_000
US_PER_BYTE = 125  # mu-law 8 kHz: one byte is 125 µs of audio
CONNECT_TIMEOUT_S = 5.0  # Twilio's stream connect timeout (error 31901)
CLOSE_TIMEOUT_S = 2.0
IN_FLIGHT_US = 250_000   # messages arriving this soon after our stop crossed it on the wire
SEND_TIMEOUT_S = 5.0     # a server that stops reading the stream for this long has hung
BACKLOG_BYTES = 64 * 1024  # unsent bytes beyond this mean the server is not reading (about 1.3 s of frames)
KNOWN_APP_EVENTS = ("media", "mark", "clear")
READ_CHUNK_BYTES = 4096  # a few media messages per read callback: one socket's burst never holds the pacer up
MAX_HANDSHAKE_BYTES = 64 * 1024
MAX_DEFERRED = 2000  # media kept for the pacer's slack per stream (40 s of audio); beyond it, judged at once
_MEDIA_TAG = '"media"'  # in a media message's event; a base64 payload cannot contain a quote
log = logging.getLogger(__name__)


class _JudgedConnection(ClientConnection):
    """A client connection that hands each complete message to ``on_message`` as it is parsed.

    The server's messages are judged, never queued for a reader task: with hundreds of streams
    on one loop, waking a task per message costs more than judging it.
    """

    def __init__(self, *args: Any, on_message: Callable[[str | bytes], None], pacer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_message = on_message
        self.pacer = pacer
        self._parts: list[bytes] = []
        self._text = False
        self._head = b""                          # the handshake response, until it is whole
        self._frames: TextFrameReader | None = None  # set once the response is whole

    def data_received(self, data: bytes) -> None:
        if self._frames is None:
            data = self._after_handshake(data)
        if self._frames is not None:
            for is_text, chunk in self._frames.feed(data):
                if is_text:
                    self._deliver(chunk, True)
                else:
                    super().data_received(chunk)
        # frames towards the server come first: while one is due, this socket waits its turn
        if self.pacer is not None and self.pacer.frames_due() and not self.transport.is_closing():
            self.pacer.hold(self.transport)

    def _after_handshake(self, data: bytes) -> bytes:
        """Give the library exactly the handshake response; return the bytes that followed it.

        Only then is the library's frame parser known to be at a frame boundary with nothing
        buffered, so :class:`TextFrameReader` can take the stream from its first frame. A refused
        or unreadable handshake leaves every later byte to the library.
        """
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) <= MAX_HANDSHAKE_BYTES:
                return b""
            self._frames = TextFrameReader.passthrough()  # not HTTP: the library says what is wrong
            rest, self._head = self._head, b""
            return rest
        head, rest, self._head = self._head[:end + 4], self._head[end + 4:], b""
        super().data_received(head)
        self._frames = (TextFrameReader(self.protocol.max_message_size or 2 ** 31)
                        if self.protocol.state is State.OPEN else TextFrameReader.passthrough())
        return rest

    def process_event(self, event: Any) -> None:
        if self.response is None or not isinstance(event, Frame) or event.opcode not in DATA_OPCODES:
            super().process_event(event)
            return
        if event.opcode is not Opcode.CONT:
            self._parts, self._text = [], event.opcode is Opcode.TEXT
        self._parts.append(bytes(event.data))
        if not event.fin:
            return
        data, self._parts = b"".join(self._parts), []
        self._deliver(data, self._text)

    def _deliver(self, data: bytes, text: bool) -> None:
        try:
            self.on_message(data.decode("utf-8", errors="replace") if text else data)
        except Exception:  # noqa: BLE001 - judging must never break the stream it judges
            log.exception("judging a server message failed")


@dataclass
class _PendingMark:
    name: str
    handle: asyncio.TimerHandle | None = None


@dataclass
class LiveMediaSocket:
    """One stream: open, send what the scenario says, read and judge what the server sends."""

    call: str
    url: str                       # the URL connected to (wss:// in TwiML may be played as ws:// by the tunnel)
    twiml_url: str                 # the <Stream url> as the application wrote it
    stream: TwilioStream
    recorder: LiveRecorder
    bidirectional: bool
    headers: dict[str, str]
    ssl: Any = None
    pacer: Any = None              # the run's FramePacer: reading yields to frames that are due
    on_closed: Callable[[LiveMediaSocket], None] | None = None
    ws: ClientConnection | None = None
    feeds: list[Feed] = field(default_factory=list)
    closed: bool = False
    closed_by: str | None = None   # twilio | server | network
    close_code: int | None = None
    stop_sent: bool = False
    stop_sent_us: int = 0
    playout_end_us: int = 0
    pending_marks: list[_PendingMark] = field(default_factory=list)
    warned: set[str] = field(default_factory=set)
    reader: asyncio.Task[None] | None = None
    closed_event: asyncio.Event = field(default_factory=asyncio.Event)
    lateness_us: list[int] = field(default_factory=list)
    deferred: deque[tuple[int, str]] = field(default_factory=deque)  # media judged in the pacer's slack
    backlog_since_us: int | None = None
    echo_line: EchoLine | None = None  # set when a media step of this call echoes the bot's audio back

    # -- connecting --------------------------------------------------------------------------------
    async def open(self) -> bool:
        rec = self.recorder
        rec.emit(self.call, "twilio", "ws.open", stream_sid=self.stream.stream_sid, url=self.twiml_url,
                 bidirectional=self.bidirectional)
        try:
            self.ws = await asyncio.wait_for(
                connect(self.url, additional_headers=self.headers, ssl=self.ssl, open_timeout=CONNECT_TIMEOUT_S,
                        close_timeout=CLOSE_TIMEOUT_S, max_size=2 ** 22, compression=None,
                        create_connection=functools.partial(  # type: ignore[arg-type]  # a factory is what it calls
                            _JudgedConnection, on_message=self._judge, pacer=self.pacer)),
                CONNECT_TIMEOUT_S + 1)
        except InvalidStatus as exc:
            self._refused(31920, f"the WebSocket handshake was answered with HTTP {exc.response.status_code}",
                          status=exc.response.status_code)
            return False
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            code = 31901 if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) else 31902
            self._refused(code, f"could not open the media stream: {type(exc).__name__}: {exc}")
            return False
        # bounded reads: one socket's burst is judged a few messages at a time, between the pacer's turns
        assert self.ws is not None
        transport: Any = self.ws.transport
        transport.max_size = READ_CHUNK_BYTES
        self.reader = asyncio.ensure_future(self._read())
        return True

    def _refused(self, code: int, message: str, **data: Any) -> None:
        self.closed, self.closed_by = True, "network"
        self.recorder.emit(self.call, "twilio", "ws.refused", code=code, message=message, url=self.twiml_url, **data)
        self.closed_event.set()

    # -- Twilio -> server ---------------------------------------------------------------------------
    async def catch_up(self) -> None:
        """Send every caller frame due by now. A scripted message is numbered and sent after this: when the
        loop has fallen behind, frames still waiting for the pacer would otherwise leave after a message
        scripted later than them, out of time order and numbered around it."""
        now_us = self.recorder.now_us()
        for feed in [f for f in self.feeds if not f.done]:
            await self.send_frames(feed, now_us)

    async def send(self, msg: dict[str, Any], *, record: bool = True, numbered: bool = True) -> None:
        if self.send_now(msg, record=record, numbered=numbered):
            await self._check_backlog(self.recorder.now_us())

    async def send_raw(self, msg: dict[str, Any]) -> None:
        """A scenario's raw message, passed through as recorded, numbers and all (as in-process): it takes
        no number from the stream, so the audio still to come keeps its own."""
        await self.send(msg, numbered=False)

    def send_now(self, msg: dict[str, Any], *, record: bool = True, numbered: bool = True) -> bool:
        """Count, record and write one message in the same step as its number was taken, so no frame can
        be numbered in between (a mark echoed from a timer would otherwise share a frame's number)."""
        if self.closed or self.ws is None:
            return False
        if numbered:
            self._counting_message()
        if record:
            self.recorder.emit(self.call, "twilio", "ws.in", event=msg.get("event"), message=msg)
        self._write_now(json.dumps(msg, separators=(",", ":")))
        return True

    async def _stalled(self) -> None:
        """The server stopped reading: Twilio gives up on the stream (31903, broken pipe)."""
        assert self.ws is not None
        self.recorder.emit(self.call, "twilio", "ws.refused", code=31903,
                           message=f"the server read nothing for {SEND_TIMEOUT_S:.0f} s; the stream was dropped")
        self.ws.transport.abort()
        await self._finish("network", None)

    def _counting_message(self) -> None:
        """A non-media message takes a number from the one counter: audio still to come moves up by one."""
        self.feeds = [f for f in self.feeds if not f.done]
        for feed in self.feeds:
            feed.offset += 1

    async def send_frames(self, feed: Feed, now_us: int) -> None:
        """Every frame of ``feed`` due by ``now_us``, numbered and checked as in-process."""
        batch = feed.batch
        start = feed.pos
        stop = start
        n = len(batch)
        while stop < n and int(batch.arrival_us[stop]) <= now_us:
            stop += 1
        if stop == start:
            return
        previous = self.stream.seq
        wire = number_slice(feed, stop, self.stream)
        for problem in protocol_problems(previous, wire, batch, start, stop, feed.consecutive):
            self.recorder.emit(self.call, "twilio", "ws.protocol", step="live", **problem)
        feed.pos = stop
        echo, line = feed.echo, self.echo_line
        for i in range(start, stop):
            if self.closed:
                return
            self.lateness_us.append(now_us - int(batch.arrival_us[i]))
            payload = batch.b64_at(i) if echo is None or line is None else line.mix(batch, i, echo)
            self._write_now(self.stream.media_text(payload, int(batch.seq[i]), int(batch.chunk[i]),
                                                   int(batch.timestamp_ms[i])))
        if feed.more is not None and feed.pos >= len(batch):
            self._next_chunk(feed)
        await self._check_backlog(now_us)

    def _next_chunk(self, feed: Feed) -> None:
        """Read a recording's next chunk; a line that cannot be read ends the recording, recorded."""
        try:
            feed.refill()
        except ScenarioError as exc:
            feed.more = None
            self.recorder.emit(self.call, "twilio", "ws.ignored", event="media", step=feed.step_path,
                               reason=f"the recording stopped at an unreadable line: {exc}"[:300])

    def _write_now(self, text: str) -> None:
        """Hand one message to the socket, framed in one step (:mod:`.ws_fast`), without waiting for it to drain.

        The pacer serves every stream of the run from one loop: waiting on one server's flow control
        would make every other call's frames late. A server that does not read lets the backlog grow
        here instead, and :meth:`_check_backlog` drops its stream once that lasts ``SEND_TIMEOUT_S``.
        """
        ws = self.ws
        if ws is None or ws.protocol.state is not State.OPEN or ws.send_in_progress is not None:
            return
        try:
            ws.transport.write(client_text_frame(text.encode()))
        except (OSError, ProtocolError, ConnectionClosed):
            self._lost()

    async def _check_backlog(self, now_us: int) -> None:
        ws = self.ws
        if ws is None or self.closed:
            return
        if ws.transport.get_write_buffer_size() <= BACKLOG_BYTES:
            self.backlog_since_us = None
            return
        if self.backlog_since_us is None:
            self.backlog_since_us = now_us
        elif now_us - self.backlog_since_us >= SEND_TIMEOUT_S * 1e6:
            await self._stalled()

    async def hang_up(self) -> None:
        """The caller hangs up: Twilio sends ``stop`` and closes the socket."""
        if self.closed or self.ws is None:
            return
        await self.catch_up()
        self.judge_deferred()
        self.stop_sent = True
        self.stop_sent_us = self.recorder.now_us()
        await self.send(self.stream.stop_message())
        await self._close(1000, "twilio")

    async def drop(self) -> None:
        """The network drops: the socket goes away without a ``stop`` (the server sees no close frame)."""
        if self.closed or self.ws is None:
            return
        self.recorder.emit(self.call, "twilio", "ws.dropped")
        self.ws.transport.abort()
        await self._finish("network", None)

    async def _close(self, code: int, by: str) -> None:
        assert self.ws is not None
        try:
            await asyncio.wait_for(self.ws.close(code), CLOSE_TIMEOUT_S + 1)
        except (TimeoutError, ConnectionClosed):
            pass
        await self._finish(by, code)

    async def _finish(self, by: str, code: int | None) -> None:
        if self.closed:
            return
        self.judge_deferred()  # kept media is recorded at the times it arrived, before the close
        if self.stop_sent and by == "server":
            by = "twilio"  # the server closing after Twilio's stop is the end Twilio started
        self.closed, self.closed_by, self.close_code = True, by, code
        for pending in self.pending_marks:
            if pending.handle:
                pending.handle.cancel()
        self.pending_marks.clear()
        if self.lateness_us:
            ordered = sorted(self.lateness_us)
            self.recorder.emit(self.call, "twilio", "ws.pacing", frames=len(ordered),
                               p50_us=ordered[len(ordered) // 2], p99_us=ordered[min(len(ordered) - 1,
                                                                                     int(len(ordered) * 0.99))],
                               max_us=ordered[-1])
        self.recorder.emit(self.call, "twilio", "ws.closed", by=by, code=code,
                           reason={"twilio": "twilio_stop_event", "server": "server_closed",
                                   "network": "connection_closed"}[by])
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
        self.closed_event.set()
        if self.on_closed:
            self.on_closed(self)

    def _lost(self) -> None:
        if not self.closed:
            code = self.ws.close_code if self.ws is not None else None
            asyncio.ensure_future(self._finish("server", code))

    # -- server -> Twilio ---------------------------------------------------------------------------
    async def _read(self) -> None:
        """Messages are judged as they arrive (:class:`_JudgedConnection`); this waits for the close."""
        assert self.ws is not None
        try:
            await self.ws.wait_closed()
        except asyncio.CancelledError:
            return
        if not self.closed:
            await self._finish("server", self.ws.close_code)

    def echo_from_now(self) -> None:
        """Keep the bot's audio on this stream from now on, to echo it back (an echo step began).

        Media kept for later judging arrived before the step: it is judged first, so it is not echoed.
        """
        if self.echo_line is None:
            self.judge_deferred()
            self.echo_line = EchoLine(0)

    def _problem(self, code: int, problem: str, t_us: int, once: bool = True, **data: Any) -> None:
        """A message Twilio would reject (31950/31951 once per stream, 31924 always)."""
        if once and problem in self.warned:
            return
        self.warned.add(problem)
        self.recorder.emit_at(t_us, self.call, "twilio", "ws.app_problem", code=code, problem=problem, **data)

    def _judge(self, message: str | bytes) -> None:
        """Take in one server message as it arrives.

        A plain media message is kept with its arrival time and judged when the pacer has time
        (:meth:`judge_deferred`): servers send the model's audio in bursts, tens of thousands of
        messages a second at 200 calls, and judging each on arrival would make caller frames late.
        Anything else is judged at once, after everything this stream received before it, so the
        outcome is the same as judging every message on arrival (marks still see the queued audio).
        """
        t_us = self.recorder.now_us()
        if (self.echo_line is None and not self.stop_sent and isinstance(message, str)
                and len(self.deferred) < MAX_DEFERRED and _MEDIA_TAG in message):
            if self.deferred or (self.pacer is not None and self.pacer.defer(self)):
                self.deferred.append((t_us, message))
                return
        self.judge_deferred()
        self._judge_at(message, t_us)

    def judge_deferred(self, until_ns: int | None = None) -> bool:
        """Judge this stream's kept media in arrival order, stopping at ``until_ns``; True once none is left."""
        deferred = self.deferred
        while deferred:
            if until_ns is not None and time.monotonic_ns() >= until_ns:
                return False
            t_us, message = deferred.popleft()
            try:
                self._judge_at(message, t_us)
            except Exception:  # noqa: BLE001 - judging must never break the stream it judges
                log.exception("judging a server message failed")
        return True

    def _judge_at(self, message: str | bytes, now: int) -> None:
        """Judge one message as Twilio would at ``now``, when it arrived."""
        rec = self.recorder
        if self.stop_sent:
            # what the server sent before our stop reached it is in flight, not a fault (jitter tolerated)
            if now - self.stop_sent_us > IN_FLIGHT_US:
                self._problem(31951, "message-after-stop", now, once=False, size=len(message))
            return
        if isinstance(message, bytes):
            self._problem(31950, "binary-frame", now, size=len(message))
            return
        try:
            msg = json.loads(message)
        except ValueError:
            self._problem(31951, "not-json", now, sample=message[:80])
            return
        event = msg.get("event") if isinstance(msg, dict) else None
        if not self.bidirectional:
            self._problem(31924, "message-on-unidirectional-stream", now, once=False, app_event=str(event)[:40])
            return
        if event not in KNOWN_APP_EVENTS:
            self._problem(31951, "unknown-event", now, app_event=str(event)[:40])
            return
        if msg.get("streamSid") != self.stream.stream_sid:
            self._problem(31951, "wrong-stream-sid", now, app_event=event,
                          stream_sid=str(msg.get("streamSid"))[:40], expected=self.stream.stream_sid)
            return
        if event == "media":
            payload = (msg.get("media") or {}).get("payload")
            try:
                audio = base64.b64decode(payload or "", validate=True) if isinstance(payload, str) else b""
            except (binascii.Error, ValueError):
                audio = b""
            if not audio:
                self._problem(31951, "bad-payload", now, app_event="media")
                return
            start = max(self.playout_end_us, now)
            self.playout_end_us = start + len(audio) * US_PER_BYTE
            if self.echo_line is not None:
                self.echo_line.played(start, audio)
            rms, sig = _audio_facts(audio)
            rec.emit_at(now, self.call, "twilio", "ws.out", event="media", bytes=len(audio),
                        frames=round(len(audio) / FRAME_BYTES, 3), whole_frames=len(audio) % FRAME_BYTES == 0,
                        plays_from_us=start, plays_until_us=self.playout_end_us, rms=rms, sig=sig)
        elif event == "mark":
            name = str((msg.get("mark") or {}).get("name", ""))
            rec.emit_at(now, self.call, "twilio", "ws.out", event="mark", name=name)
            pending = _PendingMark(name)
            delay_s = max(self.playout_end_us - now, 0) / 1e6
            pending.handle = asyncio.get_running_loop().call_later(delay_s, self._echo_soon, pending)
            self.pending_marks.append(pending)
        elif event == "clear":
            echoed = [p.name for p in self.pending_marks]
            rec.emit_at(now, self.call, "twilio", "ws.out", event="clear", echoed_marks=echoed,
                        dropped_us=max(self.playout_end_us - now, 0))
            self.playout_end_us = now
            if self.echo_line is not None:
                self.echo_line.cleared(now)
            for pending in list(self.pending_marks):
                if pending.handle:
                    pending.handle.cancel()
                self._echo_soon(pending)

    def _echo_soon(self, pending: _PendingMark) -> None:
        if pending in self.pending_marks:
            self.pending_marks.remove(pending)
        if not self.closed and self.send_now(self.stream.mark_message(pending.name)):
            asyncio.ensure_future(self._check_backlog(self.recorder.now_us()))


_FACTS_MEMO: dict[bytes, tuple[float, str]] = {}
_FACTS_MEMO_MAX = 4096


def _audio_facts(audio: bytes) -> tuple[float, str]:
    """The RMS (what silent-call and model-audio-lost read) and sign signature (echo detection) of one
    outbound payload.

    Models repeat their frames (silence, a held tone), so results are remembered per payload;
    the memo is bounded and only a cache, never a difference in what is recorded.
    """
    known = _FACTS_MEMO.get(audio)
    if known is not None:
        return known
    rms = round(math.sqrt(float(SQUARES[np.frombuffer(audio, dtype=np.uint8)].sum()) / len(audio)), 1)
    facts = (rms, mulaw_signature(audio))
    if len(_FACTS_MEMO) >= _FACTS_MEMO_MAX:
        _FACTS_MEMO.clear()
    _FACTS_MEMO[audio] = facts
    return facts
