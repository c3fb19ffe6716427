"""The media socket: Twilio Media Streams on one side, an OpenAI Realtime session on the other.

Caller frames go to the model as ``input_audio_buffer.append``; model audio comes back as whole 160-byte mu-law
frames followed by a ``mark``; caller speech during playback clears Twilio's buffer and cancels the response,
while quieter audio then (the bot's own echo on the caller's line) is not forwarded.
Every wait is bounded and both relay tasks are gone when :meth:`MediaBridge.run` returns.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass
from typing import Any

import requests
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, WebSocketException

from examples.bridge.calls import CallState
from examples.bridge.config import Business
from examples.bridge.prompts import INBOUND, build_instructions, greeting_text
from examples.bridge.realtime import BAD_TEMPERATURE, Dialect, open_session, other_voice
from examples.bridge.state import BridgeState
from examples.bridge.tools import call_tools

log = logging.getLogger("examples.bridge")

FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law
MULAW_SILENCE = b"\xff"
START_TIMEOUT_S = 10.0
START_MAX_MESSAGES = 10
SESSION_UPDATED_TIMEOUT_S = 5.0
SESSION_UPDATED_MAX_EVENTS = 50
CALLER_IDLE_TIMEOUT_S = 30.0  # Twilio sends a frame every 20 ms; this long without one is a dead stream
MAX_CALL_S = 3600.0  # the realtime service's own session limit
CRASH_AFTER_FRAMES = 50
ECHO_GATE_RMS = 500   # caller audio quieter than this while the bot is heard is its echo, not a barge-in ...
ECHO_RELATIVE = 0.5   # ... and so is audio 6 dB or more below the loudest bot frame now on the line
ECHO_FLOOR_RMS = 100  # ... unless it is (near) silence, which no VAD takes for speech: that passes as it is
ECHO_TAIL_S = 0.5     # the line still returns the bot's voice this long after playback ends


class FrameChunker:
    """Re-chunks model audio into whole 160-byte frames, keeping partial bytes for the next delta."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, audio: bytes) -> list[bytes]:
        self._pending += audio
        whole = len(self._pending) - len(self._pending) % FRAME_BYTES
        frames = [bytes(self._pending[i:i + FRAME_BYTES]) for i in range(0, whole, FRAME_BYTES)]
        del self._pending[:whole]
        return frames

    def flush(self) -> bytes | None:
        """The last partial frame padded with mu-law silence, at the end of a response."""
        if not self._pending:
            return None
        frame = bytes(self._pending).ljust(FRAME_BYTES, MULAW_SILENCE)
        self._pending.clear()
        return frame

    def clear(self) -> None:
        self._pending.clear()


@dataclass(frozen=True)
class StreamStart:
    """What Twilio's ``start`` message tells us."""

    stream_sid: str
    call_sid: str
    parameters: dict[str, str]


class TwilioGone(Exception):
    """Raised when the Twilio socket closed while we were sending to it."""


class MediaBridge:
    """One media socket's relay; built per connection, so calls share nothing but the call store."""

    def __init__(self, websocket: WebSocket, state: BridgeState) -> None:
        self.websocket = websocket
        self.state = state
        self.settings = state.settings
        self.dialect = Dialect(beta=state.settings.openai_beta)
        self.chunker = FrameChunker()
        self.stream_sid = ""
        self.responding = False  # between response.created and response.done
        self.discarding = False  # the current response was cancelled by barge-in: drop its remaining audio
        self.response_audio = False  # audio of the current response was sent and not yet followed by a mark
        self.responses_done = 0
        self.marks_sent = 0
        self.marks_echoed = 0
        self.caller_frames = 0
        self.playout_end = 0.0  # loop time when Twilio finishes playing what we sent
        self.bot_level = 0.0    # RMS of the loudest bot frame since playback (re)started

    async def run(self) -> None:
        start = await self._wait_for_start()
        if start is None:
            return
        self.stream_sid = start.stream_sid
        resolved = self._resolve(start)
        if resolved is None:
            return
        call, business = resolved
        try:
            realtime = await open_session(self.settings)
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.error("call %s: cannot open the realtime session: %s", call.call_sid, exc)
            return
        try:
            async with asyncio.timeout(MAX_CALL_S):
                await self._configure(realtime, call, business)
                await self._relay(realtime, call)
        except ConnectionClosed as exc:
            log.error("call %s: realtime session closed during set-up: %s", call.call_sid, exc)
        except TimeoutError:
            log.error("call %s: ended after the %ss call limit", call.call_sid, MAX_CALL_S)
        finally:
            if self.settings.bug("no-session-close"):
                # BUG SWITCH no-session-close: the realtime socket outlives the call.
                self.state.leaked_sessions.append(realtime)
            else:
                await realtime.close()

    async def _wait_for_start(self) -> StreamStart | None:
        """Read up to ``START_MAX_MESSAGES`` messages (``connected`` first) until ``start``; None if it never comes."""
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                for _ in range(START_MAX_MESSAGES):
                    message = await self._receive_twilio()
                    if message is None or message.get("event") == "stop":
                        return None
                    if message.get("event") == "start":
                        start = message.get("start") or {}
                        return StreamStart(stream_sid=str(message.get("streamSid") or start.get("streamSid", "")),
                                           call_sid=str(start.get("callSid", "")),
                                           parameters={str(k): str(v) for k, v in
                                                       (start.get("customParameters") or {}).items()})
        except TimeoutError:
            pass
        log.warning("media socket: no start message within %ss / %d messages", START_TIMEOUT_S, START_MAX_MESSAGES)
        return None

    def _resolve(self, start: StreamStart) -> tuple[CallState, Business] | None:
        """The call's state from its webhook; rebuilt from the stream's parameters if the webhook left none."""
        call_sid = start.call_sid or start.parameters.get("call_sid", "")
        call = self.state.calls.get(call_sid)
        if call is not None and call.instructions:
            business = self.settings.business(call.business_id)
            return (call, business) if business is not None else None
        raw_id = start.parameters.get("business_id", "")
        business = self.settings.business(int(raw_id)) if raw_id.isdigit() else None
        if business is None:
            log.error("call %s: stream names no known business (business_id=%r)", call_sid, raw_id)
            return None
        direction = start.parameters.get("direction", INBOUND)
        call = CallState(call_sid, business.id, direction, build_instructions(business, direction, self.settings),
                         status="in-progress")
        self.state.calls.put(call)
        return call, business

    async def _configure(self, realtime: ClientConnection, call: CallState, business: Business) -> None:
        """``session.update``, a bounded wait for ``session.updated``, then the greeting."""
        voice = business.voice
        if self.settings.bug("wrong-voice"):
            # BUG SWITCH wrong-voice: a hard-coded voice instead of the business's.
            voice = other_voice(voice)
        temperature = None
        if self.settings.bug("bad-temperature"):
            # BUG SWITCH bad-temperature: "calmer" sampling below the service's minimum.
            temperature = BAD_TEMPERATURE
        tools = call_tools(business, self.settings)
        await realtime.send(json.dumps(self.dialect.session_update(call.instructions, voice, temperature, tools)))
        await self._wait_session_updated(realtime, call)
        greeting = greeting_text(business)
        await realtime.send(json.dumps({"type": "response.create", "response": {
            "instructions": f"Open the call by saying exactly: {greeting}"}}))

    async def _wait_session_updated(self, realtime: ClientConnection, call: CallState) -> None:
        try:
            async with asyncio.timeout(SESSION_UPDATED_TIMEOUT_S):
                for _ in range(SESSION_UPDATED_MAX_EVENTS):
                    event = json.loads(await realtime.recv())
                    if event.get("type") == "session.updated":
                        return
                    if event.get("type") == "error":
                        log.error("call %s: session.update rejected: %s", call.call_sid, event.get("error"))
                        return
        except TimeoutError:
            pass
        log.warning("call %s: no session.updated within %ss", call.call_sid, SESSION_UPDATED_TIMEOUT_S)

    async def _relay(self, realtime: ClientConnection, call: CallState) -> None:
        """Both directions at once; when either side ends, the other is cancelled and awaited."""
        tasks = [asyncio.create_task(self._caller_to_model(realtime)),
                 asyncio.create_task(self._model_to_caller(realtime, call))]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # a crash in either direction is the handler's crash

    async def _caller_to_model(self, realtime: ClientConnection) -> None:
        while True:
            try:
                async with asyncio.timeout(CALLER_IDLE_TIMEOUT_S):
                    message = await self._receive_twilio()
            except TimeoutError:
                log.warning("stream %s: no message from Twilio for %ss", self.stream_sid, CALLER_IDLE_TIMEOUT_S)
                return
            if message is None or message.get("event") == "stop":
                return
            if message.get("event") == "mark":
                self.marks_echoed += 1
            elif message.get("event") == "media":
                self.caller_frames += 1
                if self.settings.bug("handler-crash") and self.caller_frames > CRASH_AFTER_FRAMES:
                    # BUG SWITCH handler-crash: an unguarded bug deep in the media path.
                    raise RuntimeError(f"media handler crashed after {CRASH_AFTER_FRAMES} frames")
                if self.settings.bug("drop-caller-audio") and not self.responding:
                    # BUG SWITCH drop-caller-audio: an echo gate with its condition inverted.
                    continue
                media = message.get("media") or {}
                # BUG SWITCH forward-outbound-track: the bot's own track (a both_tracks fork) taken for the caller.
                if media.get("track", "inbound") != "inbound" and not self.settings.bug("forward-outbound-track"):
                    continue
                payload = media.get("payload", "")
                # BUG SWITCH no-echo-gate: quiet audio while the bot is heard (its echo) reaches the model.
                if self._echo(payload) and not self.settings.bug("no-echo-gate"):
                    continue
                try:
                    await realtime.send(json.dumps({"type": "input_audio_buffer.append", "audio": payload}))
                except ConnectionClosed:
                    return

    async def _model_to_caller(self, realtime: ClientConnection, call: CallState) -> None:
        try:
            async for raw in realtime:
                try:
                    event = json.loads(raw)
                except ValueError:
                    log.warning("call %s: non-JSON realtime event ignored", call.call_sid)
                    continue
                if isinstance(event, dict):
                    await self._on_model_event(event, realtime, call)
        except ConnectionClosed as exc:
            log.warning("call %s: realtime session closed: %s", call.call_sid, exc)
        except TwilioGone:
            pass

    async def _on_model_event(self, event: dict[str, Any], realtime: ClientConnection, call: CallState) -> None:
        kind = event.get("type")
        if kind == "response.created":
            self.responding, self.discarding, self.response_audio = True, False, False
        elif kind == self.dialect.audio_delta and not self.discarding:
            audio = base64.b64decode(event.get("delta", ""))
            if self.settings.bug("odd-chunks"):
                # BUG SWITCH odd-chunks: deltas forwarded as they come, of any length.
                frames = [audio]
            else:
                frames = self.chunker.feed(audio)
            for frame in frames:
                await self._send_audio(frame)
        elif kind in (self.dialect.audio_done, "response.done"):
            await self._end_response_audio()
            if kind == "response.done":
                self.responding, self.discarding = False, False
                self.responses_done += 1
                if self.settings.bug("premature-hangup") and self.responses_done == 1:
                    # BUG SWITCH premature-hangup: "the greeting is done, so is the call".
                    await self._hang_up(call)
        elif kind == "input_audio_buffer.speech_started":
            await self._barge_in(realtime)
        elif kind == "error":
            log.warning("call %s: realtime error: %s", call.call_sid, event.get("error"))

    async def _end_response_audio(self) -> None:
        """Send the padded tail frame and a mark, so Twilio tells us when playback finished."""
        tail = self.chunker.flush()
        if tail is not None and not self.discarding:
            await self._send_audio(tail)
        if self.response_audio:
            self.marks_sent += 1
            await self._send_twilio({"event": "mark", "streamSid": self.stream_sid,
                                     "mark": {"name": f"response-{self.marks_sent}"}})
            self.response_audio = False

    async def _send_audio(self, frame: bytes) -> None:
        await self._send_twilio({"event": "media", "streamSid": self.stream_sid,
                                 "media": {"payload": base64.b64encode(frame).decode("ascii")}})
        self.response_audio = True
        now = asyncio.get_running_loop().time()
        level = mulaw_rms(frame)
        self.bot_level = level if now > self.playout_end + ECHO_TAIL_S else max(self.bot_level, level)
        self.playout_end = max(self.playout_end, now) + len(frame) / 8000

    def _echo(self, payload: str) -> bool:
        """A quiet but audible frame while the bot is heard (or just after): its echo. Loud speech is a barge-in
        and passes; so does silence."""
        if asyncio.get_running_loop().time() > self.playout_end + ECHO_TAIL_S:
            return False
        try:
            audio = base64.b64decode(payload)
        except ValueError:
            return False
        return ECHO_FLOOR_RMS <= mulaw_rms(audio) < max(ECHO_GATE_RMS, self.bot_level * ECHO_RELATIVE)

    async def _barge_in(self, realtime: ClientConnection) -> None:
        """Caller speech: stop playback at Twilio and cancel the response still being generated."""
        if self.responding or self.marks_sent > self.marks_echoed:
            self.chunker.clear()
            self.response_audio = False
            self.playout_end = 0.0
            await self._send_twilio({"event": "clear", "streamSid": self.stream_sid})
        if self.responding:
            self.discarding = True
            await realtime.send(json.dumps({"type": "response.cancel"}))

    async def _hang_up(self, call: CallState) -> None:
        try:
            await run_in_threadpool(lambda: self.state.twilio.calls(call.call_sid).update(status="completed"))
        except (TwilioRestException, requests.RequestException) as exc:
            log.warning("call %s: hang-up refused: %s", call.call_sid, exc)

    async def _receive_twilio(self) -> dict[str, Any] | None:
        """The next JSON message from Twilio, or None once the socket closed; undecodable frames are skipped."""
        if self.websocket.client_state != WebSocketState.CONNECTED:
            return None
        try:
            message = await self.websocket.receive_json()
        except WebSocketDisconnect:
            return None
        except KeyError:  # a binary frame
            log.warning("stream %s: binary frame from Twilio ignored", self.stream_sid)
            return {}
        except ValueError:
            log.warning("stream %s: non-JSON message from Twilio ignored", self.stream_sid)
            return {}
        return message if isinstance(message, dict) else {}

    async def _send_twilio(self, message: dict[str, Any]) -> None:
        try:
            await self.websocket.send_json(message)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise TwilioGone from exc


def _mulaw_table() -> list[int]:
    """G.711 mu-law code -> PCM16 sample."""
    table = []
    for code in range(256):
        inverted = ~code & 0xFF
        exponent, mantissa = (inverted >> 4) & 0x07, inverted & 0x0F
        magnitude = ((mantissa << 3) + 0x84 << exponent) - 0x84
        table.append(-magnitude if inverted & 0x80 else magnitude)
    return table


MULAW_SQUARES = [sample * sample for sample in _mulaw_table()]


def mulaw_rms(audio: bytes) -> float:
    """The RMS of mu-law audio in PCM16 units (0 for nothing)."""
    return (sum(MULAW_SQUARES[b] for b in audio) / len(audio)) ** 0.5 if audio else 0.0


async def close_quietly(websocket: WebSocket) -> None:
    """Close the Twilio socket unless it already is (Twilio then requests the ``<Connect action>``)."""
    if websocket.application_state == WebSocketState.CONNECTED and websocket.client_state == WebSocketState.CONNECTED:
        try:
            await websocket.close()
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # Twilio closed it first (after its stop): nothing left to close
