"""The example Twilio <-> OpenAI Realtime bridge over real loopback sockets, healthy and with each bug switch."""

from __future__ import annotations

import asyncio
import base64
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from bridge_harness import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    DELTA_BYTES,
    DELTAS,
    Harness,
    RealtimeSession,
    TwilioStream,
    call_params,
    running_bridge,
    sid,
)
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus

from examples.bridge import BUG_SWITCHES, ConfigError, Settings
from examples.bridge.config import Business
from examples.bridge.media import FrameChunker
from examples.bridge.prompts import build_instructions, prompt_text
from examples.bridge.state import BridgeState

REPO_ROOT = Path(__file__).resolve().parents[2]
DENTAL, EMPTY_INBOUND, LONG_PROMPT = "+97231234567", "+97231110000", "+97231119999"


def run(tmp_path: Path, body: Callable[[Harness], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        async with running_bridge(tmp_path, **options) as harness:
            await body(harness)
    asyncio.run(main())


def stream_of(twiml: str) -> tuple[ET.Element, ET.Element, dict[str, str]]:
    connect = ET.fromstring(twiml).find("Connect")
    assert connect is not None, twiml
    stream = connect.find("Stream")
    assert stream is not None, twiml
    return connect, stream, {p.attrib["name"]: p.attrib["value"] for p in stream.findall("Parameter")}


async def inbound_call(harness: Harness, to: str = DENTAL) -> tuple[str, dict[str, str]]:
    call_sid = sid("CA")
    answer = await harness.webhook("/voice/incoming", call_params(call_sid, to))
    assert answer.status_code == 200, answer.text
    return call_sid, stream_of(answer.text)[2]


@asynccontextmanager
async def greeted(harness: Harness, call_sid: str, parameters: dict[str, str]) -> AsyncIterator[TwilioStream]:
    """The media socket of a started call, once the greeting's audio and its mark have arrived."""
    async with harness.stream() as twilio:
        await twilio.start(call_sid, parameters)
        await twilio.receive_until(lambda m: m["event"] == "mark")
        yield twilio


async def converse(harness: Harness, parameters: dict[str, str], call_sid: str, caller_frames: int = 3,
                   after: Callable[[TwilioStream], Awaitable[None]] | None = None) -> tuple[TwilioStream,
                                                                                             RealtimeSession]:
    """One media-socket call: start, wait for the greeting's audio and mark, send caller frames, stop."""
    async with greeted(harness, call_sid, parameters) as twilio:
        await twilio.media(caller_frames)
        if after is not None:
            await after(twilio)
        await twilio.stop()
    session = harness.realtime.sessions[-1]
    await asyncio.wait_for(session.closed.wait(), 3)
    return twilio, session


async def inbound_conversation(harness: Harness, to: str = DENTAL, **options: Any) -> tuple[TwilioStream,
                                                                                          RealtimeSession]:
    """An inbound call to ``to``: its webhook, then :func:`converse` with ``options``."""
    call_sid, parameters = await inbound_call(harness, to)
    return await converse(harness, parameters, call_sid, **options)


# --- webhooks ------------------------------------------------------------------------------------------------


def test_signed_inbound_webhook_connects_a_stream_with_its_parameters(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid = sid("CA")
        answer = await h.webhook("/voice/incoming", call_params(call_sid, DENTAL))
        assert answer.headers["content-type"].startswith("text/xml")
        connect, stream, parameters = stream_of(answer.text)
        assert connect.attrib["action"] == f"{h.base}/voice/stream-ended"
        assert stream.attrib["url"] == f"wss://{h.host}/media-stream"
        assert parameters == {"business_id": "7", "direction": "inbound", "call_sid": call_sid}
        state = h.app_state.calls.get(call_sid)
        assert (state.business_id, state.direction, state.status) == (7, "inbound", "ringing")
    run(tmp_path, body)


def test_a_channel_number_finds_its_business(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        assert (await inbound_call(h, to="+97239005599"))[1]["business_id"] == "7"
    run(tmp_path, body)


def test_unsigned_or_wrongly_signed_webhooks_are_refused(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        params = call_params(sid("CA"), DENTAL)
        for path in ("/voice/incoming", "/voice/outbound", "/voice/status", "/voice/stream-ended"):
            assert (await h.webhook(path, params, signed=False)).status_code == 403, path
        assert len(h.app_state.calls) == 0
    run(tmp_path, body)


def test_an_unknown_number_hears_a_message_and_is_hung_up(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        root = ET.fromstring((await h.webhook("/voice/incoming", call_params(sid("CA"), "+15550000000"))).text)
        assert [child.tag for child in root] == ["Say", "Hangup"]
    run(tmp_path, body)


def test_status_callback_is_recorded_and_stream_end_hangs_up(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, _ = await inbound_call(h)
        status = await h.webhook("/voice/status", {**call_params(call_sid, DENTAL), "CallStatus": "completed"})
        assert status.status_code == 204
        assert h.app_state.calls.get(call_sid).statuses == ["ringing", "completed"]
        ended = await h.webhook("/voice/stream-ended", call_params(call_sid, DENTAL))
        assert [child.tag for child in ET.fromstring(ended.text)] == ["Hangup"]
        assert (await h.webhook("/voice/unknown-route", {})).status_code == 404
    run(tmp_path, body)


def test_outbound_call_is_placed_through_the_rest_api_and_gets_the_outbound_prompt(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        created = await h.http.post(f"{h.base}/calls", json={"business_id": 7, "to": "+972509999999"})
        refused = await h.http.post(f"{h.base}/calls", json={"business_id": 99, "to": "+972509999999"})
        malformed = await h.http.post(f"{h.base}/calls", content=b"not json")
        assert created.status_code == 201 and refused.status_code == 404 and malformed.status_code == 400
        call_sid = created.json()["call_sid"]
        path, form = h.rest.requests[0]
        assert path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
        assert form["To"] == ["+972509999999"] and form["From"] == [DENTAL]
        assert form["Url"] == [f"{h.base}/voice/outbound?business_id=7"]
        assert form["StatusCallback"] == [f"{h.base}/voice/status"]
        assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
        answer = await h.webhook("/voice/outbound?business_id=7", {
            **call_params(call_sid, "+972509999999", "outbound-api", from_=DENTAL), "CallStatus": "in-progress"})
        _, _, parameters = stream_of(answer.text)
        assert parameters == {"business_id": "7", "direction": "outbound", "call_sid": call_sid}
        _, session = await converse(h, parameters, call_sid)
        instructions = session.of_type("session.update")[0]["session"]["instructions"]
        assert "OUTBOUND-SCRIPT" in instructions and "INBOUND-SCRIPT" not in instructions
        assert "WHATSAPP-SCRIPT" not in instructions
    run(tmp_path, body)


def test_an_outbound_webhook_without_business_id_finds_the_business_by_from(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid = sid("CA")
        answer = await h.webhook("/voice/outbound", call_params(call_sid, "+972509999999", "outbound-api",
                                                                from_="+97231110000"))
        assert stream_of(answer.text)[2] == {"business_id": "8", "direction": "outbound", "call_sid": call_sid}
        assert "OUTBOUND-ONLY" in h.app_state.calls.get(call_sid).instructions
        unknown = await h.webhook("/voice/outbound", call_params(sid("CA"), "+972509999999", "outbound-api",
                                                                 from_="+15550000000"))
        assert [child.tag for child in ET.fromstring(unknown.text)] == ["Say", "Hangup"]
    run(tmp_path, body)


def test_health(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        response = await h.http.get(f"{h.base}/health")
        assert (response.status_code, response.text) == (200, "ok")
    run(tmp_path, body)


def test_behind_a_public_url_twilio_signs_and_is_handed_that_url(tmp_path: Path) -> None:
    public = "https://abc.ngrok.app"

    async def body(h: Harness) -> None:
        call_sid = sid("CA")
        answer = await h.webhook("/voice/incoming?src=pstn", call_params(call_sid, DENTAL))
        connect, stream, parameters = stream_of(answer.text)
        assert connect.attrib["action"] == f"{public}/voice/stream-ended"
        assert stream.attrib["url"] == "wss://abc.ngrok.app/media-stream"
        _, session = await converse(h, parameters, call_sid)  # the upgrade signed over wss://abc.ngrok.app/...
        assert "INBOUND-SCRIPT" in session.events[0]["session"]["instructions"]
        h.public_url = None  # now sign over the loopback URL the bridge was reached at: not what Twilio called
        assert (await h.webhook("/voice/incoming", call_params(sid("CA"), DENTAL))).status_code == 403
    run(tmp_path, body, public_url=public)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_python_m_serves_the_bridge_on_port(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "examples.bridge"], cwd=REPO_ROOT, text=True,
                               env={**env(tmp_path, PORT=str(port)), "PATH": "/usr/bin:/bin"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        health = None
        for _ in range(100):
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and (health.status_code, health.text) == (200, "ok")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert f"Uvicorn running on http://127.0.0.1:{port}" in stderr
    assert "Traceback" not in stderr


# --- the media socket ----------------------------------------------------------------------------------------


def test_an_unsigned_media_socket_is_refused(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with h.stream(signed=False):
                pass
        assert refused.value.response.status_code == 403
        assert h.realtime.sessions == []
    run(tmp_path, body)


def test_a_call_configures_the_session_and_relays_audio_both_ways(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h)
        async with greeted(h, call_sid, parameters) as twilio:
            sent = await twilio.media(5)
            await twilio.stop()
            session = h.realtime.sessions[0]
            await asyncio.wait_for(session.closed.wait(), 3)
        assert session.headers["authorization"] == "Bearer sk-test"
        assert "openai-beta" not in session.headers and "model=gpt-realtime" in session.headers[":path"]
        update = session.events[0]
        assert update["type"] == "session.update"
        assert update["session"]["audio"] == {
            "input": {"format": {"type": "audio/pcmu"}, "turn_detection": {"type": "server_vad"}},
            "output": {"format": {"type": "audio/pcmu"}, "voice": "coral"}}
        instructions = update["session"]["instructions"]
        assert "INBOUND-SCRIPT: answer questions about the opening hours of Dana Dental." in instructions
        assert "OUTBOUND-SCRIPT" not in instructions
        assert "temperature" not in update["session"]  # GA has no temperature
        greeting = session.events[1]
        assert greeting["type"] == "response.create"
        assert greeting["response"]["instructions"].endswith(": Hello, Dana Dental speaking, how can I help?")
        assert [e["audio"] for e in session.of_type("input_audio_buffer.append")] == sent
        audio = twilio.audio()
        assert [len(frame) for frame in audio] == [160] * 8
        model_audio = b"".join(bytes([i + 1]) * DELTA_BYTES for i in range(DELTAS))
        assert b"".join(audio) == model_audio + b"\xff" * 80  # re-chunked, the tail padded with silence
        assert [m["event"] for m in twilio.received][-1] == "mark"
        assert all(m["streamSid"] == twilio.stream_sid for m in twilio.received)
    run(tmp_path, body)


def test_the_beta_interface_uses_its_header_names_and_temperature(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        twilio, session = await inbound_conversation(h)
        assert session.headers["openai-beta"] == "realtime=v1"
        update = session.events[0]["session"]
        assert (update["voice"], update["input_audio_format"], update["output_audio_format"]) == (
            "coral", "g711_ulaw", "g711_ulaw")
        assert (update["temperature"], update["turn_detection"]) == (0.8, {"type": "server_vad"})
        assert len(twilio.audio()) == 8
    run(tmp_path, body, beta=True)


def test_caller_speech_clears_playback_and_cancels_the_response(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h)
        async with h.stream() as twilio:
            await twilio.start(call_sid, parameters)
            await twilio.receive_until(lambda m: m["event"] == "clear")
            session = h.realtime.sessions[0]
            async with asyncio.timeout(3):
                while not session.of_type("response.cancel"):
                    await asyncio.sleep(0.01)
            await twilio.media(2)
            await twilio.stop()
            await asyncio.wait_for(session.closed.wait(), 3)
        assert [m["event"] for m in twilio.received] == ["media", "media", "clear"]  # 400 bytes: 2 whole frames
        assert len(session.of_type("response.cancel")) == 1
        assert b"\x09" not in b"".join(twilio.audio())  # audio of the cancelled response is dropped
    run(tmp_path, body, barge_in=True)


def relay_tasks() -> list[str]:
    """The bridge's tasks still alive in this loop: its two relay pumps while a call is relaying."""
    names = [getattr(t.get_coro(), "__qualname__", "") for t in asyncio.all_tasks()]
    return sorted(name for name in names if name.startswith("MediaBridge."))


def test_stop_closes_the_realtime_session_and_leaves_no_relay_task(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        await inbound_conversation(h, after=lambda _: assert_relaying())
        assert h.app_state.leaked_sessions == []
        async with asyncio.timeout(3):
            while relay_tasks():
                await asyncio.sleep(0.01)

    async def assert_relaying() -> None:
        assert relay_tasks() == ["MediaBridge._caller_to_model", "MediaBridge._model_to_caller"]
    run(tmp_path, body)


def test_an_unreachable_realtime_service_ends_the_stream_cleanly(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h)
        async with h.stream() as twilio:
            await twilio.start(call_sid, parameters)
            with pytest.raises(ConnectionClosedOK):  # closed with 1000: Twilio goes on to the <Connect action>
                await twilio.receive_until(lambda m: False)
        assert twilio.received == []
    run(tmp_path, body, realtime_url=f"ws://127.0.0.1:{free_port()}/v1/realtime")


def test_when_the_realtime_session_ends_the_bridge_closes_the_media_socket(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h)
        async with h.stream() as twilio:
            await twilio.start(call_sid, parameters)
            with pytest.raises(ConnectionClosedOK):  # Twilio then requests the <Connect action>
                await twilio.receive_until(lambda m: False)
        assert [m["event"] for m in twilio.received] == ["media"] * 8 + ["mark"]
    run(tmp_path, body, close_after_greeting=True)


def test_a_stream_for_an_unknown_business_is_closed(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        async with h.stream() as twilio:
            await twilio.start(sid("CA"), {"business_id": "404", "direction": "inbound"})
            with pytest.raises(ConnectionClosedOK):
                await twilio.receive_until(lambda m: False)
        assert h.realtime.sessions == []
    run(tmp_path, body)


def test_an_empty_inbound_prompt_gives_a_neutral_instruction_naming_the_business(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, to=EMPTY_INBOUND)
        instructions = session.events[0]["session"]["instructions"]
        assert "OUTBOUND-ONLY" not in instructions and "Empty Inbound Ltd" in instructions
    run(tmp_path, body)


# --- bug switches: each shows its effect (the healthy path is pinned by the tests above) ---------------------


def test_cross_direction_fallback_gives_an_empty_inbound_prompt_the_outbound_script(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, to=EMPTY_INBOUND)
        instructions = session.events[0]["session"]["instructions"]
        assert "OUTBOUND-ONLY: sell the annual plan." in instructions
        assert "The caller phoned the business." in instructions  # the frame still says inbound
    run(tmp_path, body, bugs="cross-direction-fallback")


def test_wrong_voice_sends_another_valid_voice(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h)
        assert session.events[0]["session"]["audio"]["output"]["voice"] == "alloy"  # the business says coral
    run(tmp_path, body, bugs="wrong-voice")


def test_truncate_instructions_cuts_the_prompt_tail(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, to=LONG_PROMPT)
        instructions = session.events[0]["session"]["instructions"]
        assert len(instructions) == 1000 and "THE-LAST-RULE" not in instructions
    run(tmp_path, body, bugs="truncate-instructions")


def test_without_truncation_the_long_prompt_is_whole(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, to=LONG_PROMPT)
        assert session.events[0]["session"]["instructions"].endswith("THE-LAST-RULE")
    run(tmp_path, body)


def test_bad_temperature_is_rejected_by_the_service_and_the_call_goes_on(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        twilio, session = await inbound_conversation(h)
        assert session.events[0]["session"]["temperature"] == 0.1
        assert session.events[1]["type"] == "response.create"  # after the error, not after session.updated
        assert len(twilio.audio()) == 8
    run(tmp_path, body, bugs="bad-temperature", beta=True)


def test_drop_caller_audio_drops_frames_while_the_model_is_silent(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, caller_frames=10)
        assert session.of_type("input_audio_buffer.append") == []
    run(tmp_path, body, bugs="drop-caller-audio")


async def _own_audio(twilio: TwilioStream) -> None:
    """The bot's track (as loud as the bot), then its echo (quiet, audible) right after its greeting played."""
    await twilio._send("media", media={"track": "outbound", "payload": base64.b64encode(bytes([0x80]) * 160).decode()})
    await twilio.media(3, fill=0xE0)  # RMS 372: an echo, 12 dB under the greeting


def test_the_bots_own_track_and_its_echo_are_not_forwarded(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, caller_frames=0, after=_own_audio)
        assert session.of_type("input_audio_buffer.append") == []
    run(tmp_path, body)


def test_forward_outbound_track_sends_the_bots_own_frames_to_the_model(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, caller_frames=0, after=_own_audio)
        sent = [base64.b64decode(e["audio"]) for e in session.of_type("input_audio_buffer.append")]
        assert sent == [bytes([0x80]) * 160]  # the outbound frame; the echo is still gated
    run(tmp_path, body, bugs="forward-outbound-track")


def test_no_echo_gate_forwards_the_echo(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, caller_frames=0, after=_own_audio)
        sent = [base64.b64decode(e["audio"]) for e in session.of_type("input_audio_buffer.append")]
        assert sent == [bytes([0xE0]) * 160] * 3
    run(tmp_path, body, bugs="no-echo-gate")


def test_no_session_close_leaves_the_realtime_socket_open_after_stop(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h)
        async with greeted(h, call_sid, parameters) as twilio:
            await twilio.stop()
            with pytest.raises(ConnectionClosedOK):  # the bridge ended the media socket ...
                await twilio.receive_until(lambda m: False)
        session = h.realtime.sessions[0]
        await asyncio.sleep(0.3)
        assert not session.closed.is_set()  # ... but not the realtime one
        assert len(h.app_state.leaked_sessions) == 1
    run(tmp_path, body, bugs="no-session-close")


def test_unrouted_callback_hands_twilio_urls_the_app_does_not_serve(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        answer = await h.webhook("/voice/incoming", call_params(sid("CA"), DENTAL))
        action = stream_of(answer.text)[0].attrib["action"]
        assert action == f"{h.base}/voice/stream-end"
        await h.http.post(f"{h.base}/calls", json={"business_id": 7, "to": "+972509999999"})
        status_callback = h.rest.requests[0][1]["StatusCallback"][0]
        for url in (action, status_callback):
            assert (await h.http.post(url, data={})).status_code == 404, url
    run(tmp_path, body, bugs="unrouted-callback")


def test_premature_hangup_ends_the_call_through_rest_after_the_greeting(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        async def hung_up(_: TwilioStream) -> None:
            async with asyncio.timeout(3):
                while not h.rest.requests:
                    await asyncio.sleep(0.01)

        call_sid, parameters = await inbound_call(h)
        await converse(h, parameters, call_sid, after=hung_up)
        assert h.rest.requests == [(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call_sid}.json",
                                    {"Status": ["completed"]})]
    run(tmp_path, body, bugs="premature-hangup")


def test_handler_crash_breaks_the_media_socket_after_50_frames(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h)
        async with greeted(h, call_sid, parameters) as twilio:
            await twilio.media(60)
            with pytest.raises(ConnectionClosedError) as closed:
                await twilio.receive_until(lambda m: False)
        assert closed.value.rcvd is None  # dropped without a close frame: Twilio sees an abnormal closure
        session = h.realtime.sessions[0]
        await asyncio.wait_for(session.closed.wait(), 3)
        assert len(session.of_type("input_audio_buffer.append")) == 50
    run(tmp_path, body, bugs="handler-crash")


def test_raw_direction_stores_outbound_api_and_the_outbound_call_gets_the_inbound_prompt(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid = sid("CA")
        answer = await h.webhook("/voice/outbound?business_id=7",
                                 call_params(call_sid, "+972509999999", "outbound-api", from_=DENTAL))
        parameters = stream_of(answer.text)[2]
        assert parameters["direction"] == "outbound-api"
        assert h.app_state.calls.get(call_sid).direction == "outbound-api"
        _, session = await converse(h, parameters, call_sid)
        assert "INBOUND-SCRIPT" in session.events[0]["session"]["instructions"]
    run(tmp_path, body, bugs="raw-direction")


def test_odd_chunks_forwards_model_audio_unframed(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        twilio, _ = await inbound_conversation(h)
        assert [len(frame) for frame in twilio.audio()] == [DELTA_BYTES] * DELTAS
    run(tmp_path, body, bugs="odd-chunks")


def test_greeting_only_binds_the_greeting_as_the_whole_instructions(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h)
        assert session.events[0]["session"]["instructions"] == "Hello, Dana Dental speaking, how can I help?"
    run(tmp_path, body, bugs="greeting-only")


def test_the_state_endpoint_shows_the_stored_record_and_a_final_status_is_never_undone(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, _ = await inbound_call(h, to="+97231110000")  # business 8, not the first of the file
        for status in ("in-progress", "completed", "in-progress"):  # the last one late, out of order
            await h.webhook("/voice/status", {**call_params(call_sid, "+97231110000"), "CallStatus": status})
        record = (await h.http.get(f"{h.base}/calls/{call_sid}")).json()
        assert record == {"call_sid": call_sid, "business_id": 8, "direction": "inbound", "status": "completed",
                          "statuses": ["ringing", "in-progress", "completed", "in-progress"],
                          "call_log": {"business_id": 8, "direction": "inbound", "status": "completed"},
                          "lead": {"business_id": 8}}
        missing = await h.http.get(f"{h.base}/calls/CA00000000000000000000000000000000")
        assert missing.status_code == 404 and missing.json() == {"error": "no such call"}
        assert (await h.http.post(f"{h.base}/calls/{call_sid}")).status_code == 405  # read-only
    run(tmp_path, body)


def test_lost_final_status_leaves_the_record_in_progress(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, _ = await inbound_call(h)
        for status in ("in-progress", "completed"):
            await h.webhook("/voice/status", {**call_params(call_sid, DENTAL), "CallStatus": status})
        assert (await h.http.get(f"{h.base}/calls/{call_sid}")).json()["status"] == "in-progress"
    run(tmp_path, body, bugs="lost-final-status")


def test_foreign_tenant_writes_the_call_log_and_lead_under_the_first_business(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        call_sid, parameters = await inbound_call(h, to="+97231110000")
        assert parameters["business_id"] == "8"  # the call itself is still business 8's
        record = (await h.http.get(f"{h.base}/calls/{call_sid}")).json()
        assert (record["business_id"], record["call_log"]["business_id"], record["lead"]) == (8, 7, {"business_id": 7})
    run(tmp_path, body, bugs="foreign-tenant")


def tools_of(session: RealtimeSession) -> list[tuple[str, str]]:
    return [(t["name"], t["description"]) for t in session.events[0]["session"].get("tools", [])]


def test_appointment_tools_go_only_to_a_business_that_books_and_name_it(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, dental = await inbound_conversation(h)  # business 7: call_goal appointment
        assert [name for name, _ in tools_of(dental)] == ["check_availability", "schedule_appointment"]
        assert all("Dana Dental" in description for _, description in tools_of(dental))
        assert dental.events[0]["session"]["tool_choice"] == "auto"
        _, empty = await inbound_conversation(h, to=EMPTY_INBOUND)  # business 8 books nothing
        assert "tools" not in empty.events[0]["session"]
    run(tmp_path, body)


def test_foreign_tools_gives_a_call_the_first_business_tools(tmp_path: Path) -> None:
    async def body(h: Harness) -> None:
        _, session = await inbound_conversation(h, to=EMPTY_INBOUND)  # business 8, which books nothing
        assert [name for name, _ in tools_of(session)] == ["check_availability", "schedule_appointment"]
        assert all("Dana Dental" in description for _, description in tools_of(session))
    run(tmp_path, body, bugs="foreign-tools")


def test_every_switch_has_a_test_here_and_one_marked_place_in_the_code() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    assert [name for name in BUG_SWITCHES if f'bugs="{name}"' not in source] == []
    code = "".join(path.read_text(encoding="utf-8") for path in (REPO_ROOT / "examples" / "bridge").glob("*.py"))
    assert {name: code.count(f"# BUG SWITCH {name}:") for name in BUG_SWITCHES} == dict.fromkeys(BUG_SWITCHES, 1)


# --- configuration, prompts, framing -------------------------------------------------------------------------


def env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    businesses = tmp_path / "b.json"
    businesses.write_text('[{"id": 7, "name": "Dana", "phone": "+97231234567"}]', encoding="utf-8")
    values = {"PORT": "8080", "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
              "OPENAI_API_KEY": "sk", "CALLREPLAY_BUSINESSES_FILE": str(businesses)}
    return {k: v for k, v in {**values, **overrides}.items() if v}


def test_settings_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, PUBLIC_URL="https://abc.ngrok.app/", OPENAI_BETA="1",
                                     OPENAI_REALTIME_URL="ws://127.0.0.1:9/v1/realtime?model=m",
                                     BRIDGE_BUGS=" wrong-voice, odd-chunks "))
    assert (settings.port, settings.public_url, settings.openai_beta) == (8080, "https://abc.ngrok.app", True)
    assert settings.openai_realtime_url == "ws://127.0.0.1:9/v1/realtime?model=m"
    assert settings.bugs == {"wrong-voice", "odd-chunks"}
    assert Settings.from_env(env(tmp_path)).openai_realtime_url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"BRIDGE_BUGS": "wrong-voice,no-such-bug"},
     "cannot start the bridge: BRIDGE_BUGS: unknown switch 'no-such-bug'; valid switches: cross-direction-fallback, "),
    ({"PORT": "", "OPENAI_API_KEY": ""}, "cannot start the bridge: PORT is not set; OPENAI_API_KEY is not set"),
    ({"PORT": "eighty"}, "cannot start the bridge: PORT must be a number, got 'eighty'"),
])
def test_bad_environment_is_refused_with_every_problem_named(tmp_path: Path, overrides: dict[str, str],
                                                              message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env(tmp_path, **overrides))
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(("content", "message"), [
    ("{", "b.json:1: not valid JSON: Expecting property name enclosed in double quotes"),
    ('{"id": 7}', "b.json: expected a JSON list of businesses, got dict"),
    ('[{"id": 7}, {"id": "8"}]', "b.json: businesses[1].id: expected an integer, got '8'"),
    ('[{"id": 7, "channels": "+972"}]', "b.json: businesses[0].channels: expected a list of phone numbers, got '+972'"),
])
def test_a_bad_businesses_file_is_refused_with_its_location(tmp_path: Path, content: str, message: str) -> None:
    values = env(tmp_path)
    Path(values["CALLREPLAY_BUSINESSES_FILE"]).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(values)
    assert str(refused.value).endswith(message)


def test_python_m_refuses_an_unknown_switch_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "examples.bridge"], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={**env(tmp_path, BRIDGE_BUGS="typo"), "PATH": "/usr/bin:/bin"}, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("examples.bridge: cannot start the bridge: BRIDGE_BUGS: unknown switch 'typo'")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("raw", "text"), [
    ("  Plain prompt for {{business_name}}. ", "Plain prompt for Dana."),
    ({"calls": "Calls text", "whatsapp": "WA"}, "Calls text"),
    ('{"calls": "From JSON text", "whatsapp": "WA"}', "From JSON text"),
    ('{"whatsapp": "WA only"}', ""),
    ("{not json", "{not json"),
    (None, ""),
])
def test_prompt_text_reads_the_calls_text(raw: Any, text: str) -> None:
    assert prompt_text(raw, "Dana") == text


def test_instructions_name_the_direction(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    business = Business(id=1, name="Dana", settings={"ai_prompt": "IN", "outbound_ai_prompt": "OUT"})
    assert build_instructions(business, "inbound", settings) == (
        "You are the voice assistant of Dana on a phone call. The caller phoned the business.\n\nIN")
    assert build_instructions(business, "outbound", settings).endswith(
        "You are calling the customer on behalf of the business.\n\nOUT")


def test_frame_chunker_keeps_partial_bytes_for_the_next_delta() -> None:
    chunker = FrameChunker()
    assert chunker.feed(b"a" * 100) == []
    assert chunker.feed(b"b" * 300) == [b"a" * 100 + b"b" * 60, b"b" * 160]
    assert chunker.flush() == b"b" * 80 + b"\xff" * 80
    assert chunker.flush() is None


def test_twilio_api_base_wins_over_an_edge_or_region_in_the_environment(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_REGION", "au1")
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    state = BridgeState.build(Settings.from_env(env(tmp_path, TWILIO_API_BASE="http://127.0.0.1:4567/")))
    url = f"{state.twilio.api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    assert state.twilio.get_hostname(url) == f"http://127.0.0.1:4567/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
