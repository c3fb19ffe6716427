"""The realtime emulator over real loopback sockets, driven by a ``websockets`` client as a target would."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import math
import time

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from callreplay.audio.sources import silence, speech
from callreplay.emulators.realtime import RealtimeEmulator, RealtimeScript, Rejection
from callreplay.emulators.realtime import audio as wire_audio
from callreplay.emulators.realtime.catalogue import OPENAI_AUDIO_FORMATS, gemini_pcm

AUTH = {"Authorization": "Bearer sk-test"}
BETA = {**AUTH, "OpenAI-Beta": "realtime=v1"}
FAST = RealtimeScript(delivery_rate=math.inf, greeting_duration_s=0.2, response_duration_s=0.2,
                      auto_response_duration_s=0.2)
RECV_TIMEOUT_S = 3.0


class Recorder:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, dict]] = []

    def __call__(self, conn_id: str, kind: str, data: dict) -> None:
        self.rows.append((conn_id, kind, data))

    def of(self, kind: str) -> list[dict]:
        return [d for _, k, d in self.rows if k == kind]


def run(scenario, script=FAST, **kwargs):
    """Start an emulator, run ``scenario(emu, rec)``, always stop it; the whole thing is time-bounded."""
    rec = Recorder()

    async def main():
        emu = RealtimeEmulator(script=script, record=rec, **kwargs)
        await emu.start()
        try:
            await asyncio.wait_for(scenario(emu, rec), timeout=8)
        finally:
            await emu.stop()

    asyncio.run(main())
    return rec


async def recv(ws: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT_S))


async def until(ws: ClientConnection, wanted: str, key: str = "type", limit: int = 2000) -> list[dict]:
    """Events up to and including the first whose ``key`` is ``wanted`` (or holds it, for Gemini)."""
    seen = []
    for _ in range(limit):
        event = await recv(ws)
        seen.append(event)
        if event.get(key) == wanted or (key == "serverContent" and wanted in (event.get(key) or {})):
            return seen
    raise AssertionError(f"no {wanted} in {limit} events")


def types(events):
    return [e.get("type") for e in events]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ulaw_turn(speech_s: float = 0.6, silence_s: float = 1.0) -> list[bytes]:
    """Caller audio as 200 ms G.711 chunks: speech then silence."""
    frames = np.concatenate([speech(int(speech_s * 1e6), 1500, 3), silence(int(silence_s * 1e6))])
    data = frames.tobytes()
    return [data[i:i + 1600] for i in range(0, len(data), 1600)]


# -- OpenAI: handshake and session.update ----------------------------------------------------------------------

def test_beta_session_created_then_valid_update_is_confirmed():
    async def scenario(emu, rec):
        async with connect(emu.openai_url + "?model=gpt-realtime", additional_headers=BETA) as ws:
            created = await recv(ws)
            assert created["type"] == "session.created"
            assert created["session"]["voice"] == "alloy" and created["session"]["input_audio_format"] == "pcm16"
            assert (await recv(ws))["type"] == "conversation.created"
            await ws.send(json.dumps({"type": "session.update", "event_id": "c1", "session": {
                "instructions": "You are Alpha Insurance.", "voice": "ash", "input_audio_format": "g711_ulaw",
                "output_audio_format": "g711_ulaw", "temperature": 0.6,
                "input_audio_noise_reduction": {"type": "near_field"}}}))
            updated = await recv(ws)
            assert updated["type"] == "session.updated"
            assert updated["session"]["voice"] == "ash" and updated["session"]["instructions"] == "You are Alpha Insurance."
            assert emu.connections[0].interface == "beta" and emu.connections[0].id == "rt1"

    rec = run(scenario)
    connected = rec.of("realtime.connected")[0]
    assert connected["interface"] == "beta" and connected["model"] == "gpt-realtime"
    assert "authorization" not in connected["headers"]
    update = rec.of("realtime.session_update")[0]
    assert (update["voice"], update["input_audio_format"], update["accepted"], update["update_number"]) == \
        ("ash", "g711_ulaw", True, 1)
    assert update["noise_reduction"] == {"type": "near_field"}
    assert rec.of("realtime.session_updated") == [{"update_number": 1}]
    assert rec.of("realtime.closed")[0]["by"] == "client"


@pytest.mark.parametrize(("interface", "session", "code", "param"), [
    ("beta", {"temperature": 0.3}, "decimal_below_min_value", "session.temperature"),
    ("beta", {"voice": "fable"}, "invalid_value", "session.voice"),
    ("beta", {"input_audio_noise_reduction": {"type": "studio"}}, "invalid_value",
     "session.input_audio_noise_reduction.type"),
    ("beta", {"output_audio_format": "mp3"}, "invalid_value", "session.output_audio_format"),
    ("ga", {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcm", "rate": 8000}}}},
     "invalid_value", "session.audio.input.format.rate"),
    ("ga", {"instructions": "x"}, "missing_required_parameter", "session.type"),
])
def test_bad_update_gets_the_services_error_and_no_session_updated(interface, session, code, param):
    headers = BETA if interface == "beta" else AUTH

    async def scenario(emu, rec):
        async with connect(emu.openai_url + "?model=gpt-realtime", additional_headers=headers) as ws:
            await until(ws, "session.created")
            if interface == "beta":
                await recv(ws)  # conversation.created
            await ws.send(json.dumps({"type": "session.update", "event_id": "evt_42", "session": session}))
            error = await recv(ws)
            assert error["type"] == "error" and error["event_id"].startswith("event_")
            assert error["error"]["type"] == "invalid_request_error"
            assert (error["error"]["code"], error["error"]["param"], error["error"]["event_id"]) == (code, param, "evt_42")
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            assert (await recv(ws))["type"] == "input_audio_buffer.cleared"  # no session.updated came in between

    rec = run(scenario)
    assert rec.of("realtime.session_update")[0]["accepted"] is False
    assert rec.of("realtime.error")[0]["code"] == code
    assert rec.of("realtime.session_updated") == []


def test_ga_session_shape_and_event_errors():
    async def scenario(emu, rec):
        async with connect(emu.openai_url + "?model=gpt-realtime", additional_headers=AUTH) as ws:
            created = await recv(ws)
            assert created["session"]["type"] == "realtime"
            assert created["session"]["audio"]["output"]["voice"] == "marin"
            await ws.send("{not json")
            assert (await recv(ws))["error"]["code"] == "invalid_json"
            await ws.send(json.dumps({"type": "session.explode", "event_id": "e9"}))
            error = (await recv(ws))["error"]
            assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "type", "e9")
            await ws.send(json.dumps({"event_id": "e10"}))
            assert (await recv(ws))["error"]["message"] == "The 'type' field is missing."

    rec = run(scenario)
    assert rec.of("realtime.connected")[0]["interface"] == "ga"


def test_append_of_invalid_base64_is_refused_and_recorded_without_audio():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "no!base64", "event_id": "e1"}))
            error = (await recv(ws))["error"]
            assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "audio", "e1")

    rec = run(scenario)
    append = [e for e in rec.of("realtime.client_event") if e.get("type") == "input_audio_buffer.append"]
    assert append[0]["audio"] == {"invalid_base64": True, "length": len("no!base64")}
    assert rec.of("realtime.audio_in") == []


def test_gemini_audio_of_invalid_base64_closes_1007():
    async def scenario(emu, rec):
        async with connect(emu.gemini_url + "?key=k") as ws:
            await ws.send(json.dumps({"setup": {"model": "models/gemini-2.0-flash-live-001"}}))
            assert "setupComplete" in await recv(ws)
            await ws.send(json.dumps({"realtimeInput": {"audio": {"data": "no!base64",
                                                                  "mimeType": "audio/pcm;rate=16000"}}}))
            with pytest.raises(ConnectionClosed):
                await recv(ws)
            assert ws.close_code == 1007

    rec = run(scenario)
    body = rec.of("realtime.client_event")[-1]["realtimeInput"]
    assert body["audio"]["data"] == {"invalid_base64": True, "length": len("no!base64")}
    assert rec.of("realtime.audio_in") == []


def test_missing_auth_header_is_refused():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers={"OpenAI-Beta": "realtime=v1"}) as ws:
            error = await recv(ws)
            assert error["error"]["message"] == "Missing bearer or basic authentication in header"
            with pytest.raises(ConnectionClosed):
                await recv(ws)
            assert ws.close_code == 1008

    rec = run(scenario)
    assert rec.of("realtime.closed")[0]["by"] == "server"


def test_unknown_path_is_a_404():
    async def scenario(emu, rec):
        with pytest.raises(InvalidStatus) as info:
            async with connect(emu.base_url + "/v2/chat", additional_headers=AUTH):
                pass
        assert info.value.response.status_code == 404

    assert run(scenario).of("realtime.rejected_handshake")[0]["path"] == "/v2/chat"


# -- OpenAI: audio in, VAD, responses --------------------------------------------------------------------------

def test_caller_speech_gives_vad_events_and_an_auto_response_in_ulaw():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "session.update", "session": {
                "input_audio_format": "g711_ulaw", "output_audio_format": "g711_ulaw"}}))
            await until(ws, "session.updated")
            for chunk in ulaw_turn():
                await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": b64(chunk)}))
            events = await until(ws, "response.done")
            names = types(events)
            start = names.index("input_audio_buffer.speech_started")
            assert names[start:start + 5] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
                                              "input_audio_buffer.committed", "conversation.item.created",
                                              "response.created"]
            deltas = [e for e in events if e["type"] == "response.audio.delta"]
            assert {len(base64.b64decode(d["delta"])) for d in deltas} == {160}
            assert sum(len(base64.b64decode(d["delta"])) for d in deltas) == 160 * 10  # 0.2 s
            pcm = wire_audio.decode(base64.b64decode(deltas[3]["delta"]), OPENAI_AUDIO_FORMATS["g711_ulaw"])
            assert wire_audio.pcm_rms(pcm) > 500  # voiced, not silence
            assert events[-1]["response"]["status"] == "completed"

    rec = run(scenario)
    started, stopped = rec.of("realtime.speech_started")[0], rec.of("realtime.speech_stopped")[0]
    assert started["audio_ms"] == 0  # loud from frame 0, 3rd frame at 40 ms, minus 300 ms prefix padding
    assert stopped["audio_ms"] == 600 + 700  # 700 ms of quiet after 600 ms of speech (the in-process VAD rule)
    assert rec.of("realtime.response_created")[0]["reason"] == "vad"
    assert rec.of("realtime.item_created")[0]["role"] == "user"
    audio_in = rec.of("realtime.audio_in")
    assert sum(a["bytes"] for a in audio_in) == 8000 * 16 // 10 and audio_in[0]["frames"] == 10
    client_appends = [e for e in rec.of("realtime.client_event") if e["type"] == "input_audio_buffer.append"]
    assert set(client_appends[0]["audio"]) == {"bytes", "sha256", "rms"}
    ulaw = OPENAI_AUDIO_FORMATS["g711_ulaw"]
    expected_rms = [wire_audio.pcm_rms(wire_audio.decode(chunk, ulaw)) for chunk in ulaw_turn()]
    assert [a["rms"] for a in audio_in] == [e["audio"]["rms"] for e in client_appends] == expected_rms
    assert all("delta" not in e or isinstance(e["delta"], (dict, str)) for e in rec.of("realtime.server_event"))
    assert rec.of("realtime.response_done")[0]["audio_ms"] == 200


def test_ga_pcm16_audio_in_triggers_vad_and_ga_event_names():
    fmt = OPENAI_AUDIO_FORMATS["pcm16"]
    voiced = wire_audio.synthesize(fmt, 600_000, 1500, 5) + b"\x00" * fmt.bytes_for_ms(1000)

    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=AUTH) as ws:
            await until(ws, "session.created")
            for i in range(0, len(voiced), 4801):  # odd-sized appends
                await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": b64(voiced[i:i + 4801])}))
            events = await until(ws, "response.done")
            names = types(events)
            assert "conversation.item.added" in names and "response.output_audio.delta" in names
            assert "response.output_audio_transcript.done" in names and "response.audio.delta" not in names
            deltas = [e for e in events if e["type"] == "response.output_audio.delta"]
            assert len(base64.b64decode(deltas[0]["delta"])) == 960

    rec = run(scenario)
    assert rec.of("realtime.speech_stopped")[0]["audio_ms"] == 1300


@pytest.mark.parametrize(("rate", "low_s", "high_s"), [(1.0, 0.85, 1.6), (10.0, 0.06, 0.35)])
def test_response_create_is_paced_at_the_scripted_rate(rate, low_s, high_s):
    script = RealtimeScript(delivery_rate=rate, greeting_duration_s=1.0)

    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "response.create"}))
            began = time.monotonic()
            events = await until(ws, "response.done")
            elapsed = time.monotonic() - began
            assert low_s <= elapsed <= high_s, f"1 s of audio at rate {rate} took {elapsed:.3f}s"
            names = types(events)
            assert names[:5] == ["response.created", "rate_limits.updated", "response.output_item.added",
                                 "conversation.item.created", "response.content_part.added"]
            assert names[-5:] == ["response.audio.done", "response.audio_transcript.done",
                                  "response.content_part.done", "response.output_item.done", "response.done"]
            transcript = "".join(e["delta"] for e in events if e["type"] == "response.audio_transcript.delta")
            assert transcript == script.greeting_transcript
            total = sum(len(base64.b64decode(e["delta"])) for e in events if e["type"] == "response.audio.delta")
            assert total == 48_000  # 1 s of pcm16 24 kHz

    run(scenario, script=script)


def test_odd_chunk_bytes_and_response_cancel():
    script = RealtimeScript(chunk_bytes=333, greeting_duration_s=2.0)

    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "response.create"}))
            await until(ws, "response.audio.delta")
            first = await until(ws, "response.audio.delta")
            assert len(base64.b64decode(first[-1]["delta"])) == 333
            await ws.send(json.dumps({"type": "response.create", "event_id": "dup"}))
            await ws.send(json.dumps({"type": "response.cancel"}))
            events = await until(ws, "response.done")
            errors = [e["error"] for e in events if e["type"] == "error"]
            assert errors[0]["code"] == "conversation_already_has_active_response"
            done = events[-1]["response"]
            assert done["status"] == "cancelled" and done["status_details"]["reason"] == "client_cancelled"
            assert "response.output_item.done" in types(events)
            await ws.send(json.dumps({"type": "response.cancel", "event_id": "c2"}))
            assert (await recv(ws))["error"]["code"] == "response_cancel_not_active"

    rec = run(scenario, script=script)
    done = rec.of("realtime.response_done")[0]
    assert done["status"] == "cancelled" and done["audio_ms"] < 1000


def test_item_create_and_truncate_are_recorded():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "conversation.item.create", "item": {
                "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi, I need a quote"}]}}))
            created = await recv(ws)
            assert created["type"] == "conversation.item.created" and created["item"]["role"] == "user"
            await ws.send(json.dumps({"type": "response.create"}))
            events = await until(ws, "response.done")
            item_id = events[-1]["response"]["output"][0]["id"]
            await ws.send(json.dumps({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                                      "audio_end_ms": 100}))
            assert (await recv(ws))["type"] == "conversation.item.truncated"
            await ws.send(json.dumps({"type": "conversation.item.truncate", "item_id": "nope", "audio_end_ms": 1}))
            assert (await recv(ws))["error"]["code"] == "item_not_found"

    rec = run(scenario)
    items = rec.of("realtime.item_created")
    assert (items[0]["role"], items[0]["content"]) == ("user", "Hi, I need a quote")
    assert items[1]["role"] == "assistant"


def test_never_confirm_and_reject_scripts():
    async def never(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "session.update", "session": {"voice": "ash"}}))
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            assert (await recv(ws))["type"] == "input_audio_buffer.cleared"

    rec = run(never, script=RealtimeScript(never_confirm=True))
    assert rec.of("realtime.session_update")[0]["accepted"] is True and rec.of("realtime.session_updated") == []

    async def reject(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "session.update", "event_id": "u1", "session": {"voice": "ash"}}))
            error = (await recv(ws))["error"]
            assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "session.voice", "u1")
            await ws.send(json.dumps({"type": "response.create", "event_id": "r1"}))
            assert (await recv(ws))["error"]["code"] == "server_error"

    rec = run(reject, script=RealtimeScript(reject_session_update=Rejection("invalid_value", "session.voice"),
                                            fail_response_create=Rejection("server_error", type="server_error")))
    assert [e["code"] for e in rec.of("realtime.error")] == ["invalid_value", "server_error"]


def test_scripted_response_and_per_connection_script():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            conn = emu.connections[0]
            response_id = await conn.start_response(duration_s=0.1, transcript="Scripted hello", reason="scripted")
            events = await until(ws, "response.done")
            assert events[-1]["response"]["id"] == response_id
            deltas = [e for e in events if e["type"] == "response.audio.delta"]
            assert {len(base64.b64decode(d["delta"])) for d in deltas} == {100}

    rec = run(scenario, script_for=lambda conn: RealtimeScript(delivery_rate=math.inf, chunk_bytes=100))
    assert rec.of("realtime.response_created")[0]["reason"] == "scripted"
    assert rec.of("realtime.response_done")[0]["transcript"] == "Scripted hello"


def test_stop_closes_open_connections():
    async def scenario(emu, rec):
        ws = await connect(emu.openai_url, additional_headers=BETA)
        await until(ws, "conversation.created")
        await emu.connections[0].start_response(duration_s=5.0)
        began = time.monotonic()
        await emu.stop()
        assert time.monotonic() - began < 3
        with pytest.raises(ConnectionClosed):
            for _ in range(1000):
                await recv(ws)
        assert ws.close_code == 1001

    rec = run(scenario, script=RealtimeScript())
    assert rec.of("realtime.closed")[0]["by"] == "server"


# -- Gemini Live -------------------------------------------------------------------------------------------------

GEMINI_SETUP = {"setup": {"model": "models/gemini-2.0-flash-live-001",
                          "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": {
                              "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}},
                          "systemInstruction": {"parts": [{"text": "You answer for Alpha Insurance."}]},
                          "outputAudioTranscription": {}}}


def test_gemini_setup_audio_in_and_model_turn():
    fmt16 = gemini_pcm(16_000)
    voiced = wire_audio.synthesize(fmt16, 600_000, 1500, 9) + b"\x00" * fmt16.bytes_for_ms(1000)

    async def scenario(emu, rec):
        async with connect(emu.gemini_url + "?key=test") as ws:
            await ws.send(json.dumps(GEMINI_SETUP))
            assert await recv(ws) == {"setupComplete": {}}
            for i in range(0, len(voiced), 3200):
                await ws.send(json.dumps({"realtime_input": {"audio": {"mimeType": "audio/pcm;rate=16000",
                                                                       "data": b64(voiced[i:i + 3200])}}}))
            events = await until(ws, "turnComplete", key="serverContent")
            audio = [p["inlineData"] for e in events for p in (e.get("serverContent", {}).get("modelTurn") or {}).get(
                "parts", [])]
            assert audio and {a["mimeType"] for a in audio} == {"audio/pcm;rate=24000"}
            assert sum(len(base64.b64decode(a["data"])) for a in audio) == 48_000 * 2 // 10  # 0.2 s at 24 kHz
            assert any("generationComplete" in e.get("serverContent", {}) for e in events)
            words = "".join(e["serverContent"]["outputTranscription"]["text"] for e in events
                            if "outputTranscription" in e.get("serverContent", {}))
            assert words == FAST.auto_response_transcript

    rec = run(scenario)
    update = rec.of("realtime.session_update")[0]
    assert (update["voice"], update["instructions"], update["accepted"]) == ("Kore", "You answer for Alpha Insurance.",
                                                                              True)
    assert rec.of("realtime.connected")[0]["provider"] == "gemini"
    assert rec.of("realtime.speech_stopped")[0]["audio_ms"] == 1300
    assert rec.of("realtime.response_created")[0]["reason"] == "vad"


def test_gemini_bad_voice_closes_1007_and_barge_in_interrupts():
    async def bad_voice(emu, rec):
        setup = json.loads(json.dumps(GEMINI_SETUP))
        setup["setup"]["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] = "alloy"
        async with connect(emu.gemini_url, additional_headers={"x-goog-api-key": "k"}) as ws:
            await ws.send(json.dumps(setup))
            with pytest.raises(ConnectionClosed):
                await recv(ws)
            assert (ws.close_code, ws.close_reason) == (1007, "Request contains an invalid argument.")

    rec = run(bad_voice)
    assert rec.of("realtime.session_update")[0]["accepted"] is False

    async def barge_in(emu, rec):
        async with connect(emu.gemini_url + "?key=test") as ws:
            await ws.send(json.dumps(GEMINI_SETUP))
            await recv(ws)
            await ws.send(json.dumps({"clientContent": {"turns": [{"role": "user", "parts": [{"text": "Hello?"}]}],
                                                        "turnComplete": True}}))
            await until(ws, "modelTurn", key="serverContent")
            loud = wire_audio.synthesize(gemini_pcm(16_000), 200_000, 1500, 2)
            await ws.send(json.dumps({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000",
                                                                  "data": b64(loud)}}}))
            events = await until(ws, "interrupted", key="serverContent")
            assert events[-1]["serverContent"]["interrupted"] is True

    rec = run(barge_in, script=RealtimeScript(greeting_duration_s=3.0))
    assert rec.of("realtime.item_created")[0]["content"] == "Hello?"
    assert rec.of("realtime.response_done")[0]["reason"] == "turn_detected"


# -- more OpenAI turns: barge-in, manual commit, voice lock, per-response overrides, TLS ------------------------

def test_caller_speech_during_a_reply_cancels_it_as_turn_detected():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "session.update", "session": {"input_audio_format": "g711_ulaw"}}))
            await until(ws, "session.updated")
            await ws.send(json.dumps({"type": "response.create"}))
            await until(ws, "response.audio.delta")
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": b64(ulaw_turn(0.2, 0)[0])}))
            events = await until(ws, "response.done")
            assert "input_audio_buffer.speech_started" in types(events)
            done = events[-1]["response"]
            assert (done["status"], done["status_details"]["reason"]) == ("cancelled", "turn_detected")

    run(scenario, script=RealtimeScript(greeting_duration_s=3.0))


def test_manual_mode_commit_needs_100ms_and_creates_the_user_item():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "session.update", "session": {"turn_detection": None,
                                                                            "input_audio_format": "g711_ulaw"}}))
            await until(ws, "session.updated")
            await ws.send(json.dumps({"type": "input_audio_buffer.commit", "event_id": "k1"}))
            error = (await recv(ws))["error"]
            assert error["code"] == "input_audio_buffer_commit_empty" and error["event_id"] == "k1"
            assert error["message"].endswith("but buffer only has 0.00ms of audio.")
            for chunk in ulaw_turn():  # loud audio, but no VAD in manual mode
                await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": b64(chunk)}))
            await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            committed = await recv(ws)
            assert committed["type"] == "input_audio_buffer.committed"
            assert (await recv(ws))["type"] == "conversation.item.created"

    rec = run(scenario)
    assert rec.of("realtime.speech_started") == [] and rec.of("realtime.response_created") == []


def test_voice_is_locked_once_assistant_audio_was_sent():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            await ws.send(json.dumps({"type": "response.create"}))
            await until(ws, "response.done")
            await ws.send(json.dumps({"type": "session.update", "session": {"voice": "coral"}}))
            error = (await recv(ws))["error"]
            assert (error["code"], error["param"]) == ("cannot_update_voice", None)
            assert error["message"] == "Cannot update a conversation's voice if assistant audio is present."

    run(scenario)


def test_text_only_response_override_and_its_instructions_are_recorded():
    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=AUTH) as ws:
            await until(ws, "session.created")
            await ws.send(json.dumps({"type": "response.create", "response": {
                "output_modalities": ["text"], "instructions": "Say hello in Hebrew."}}))
            events = await until(ws, "response.done")
            assert "response.output_audio.delta" not in types(events)
            text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
            assert text == FAST.greeting_transcript

    rec = run(scenario)
    assert rec.of("realtime.response_created")[0]["instructions"] == "Say hello in Hebrew."
    assert rec.of("realtime.audio_out") == []


def test_wss_with_a_locally_made_certificate():
    import ssl

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def main():
        emu = RealtimeEmulator(script=FAST)
        await emu.start(ssl=server_ctx)
        try:
            assert emu.openai_url.startswith("wss://127.0.0.1:")
            async with connect(emu.openai_url, additional_headers=AUTH, ssl=client_ctx) as ws:
                assert (await recv(ws))["type"] == "session.created"
        finally:
            await emu.stop()

    asyncio.run(asyncio.wait_for(main(), 8))


def test_gemini_requires_setup_first_and_a_key():
    async def no_setup(emu, rec):
        async with connect(emu.gemini_url + "?key=k") as ws:
            await ws.send(json.dumps({"realtimeInput": {"text": "hi"}}))
            with pytest.raises(ConnectionClosed):
                await recv(ws)
            assert ws.close_code == 1007

    run(no_setup)

    async def no_key(emu, rec):
        async with connect(emu.gemini_url) as ws:
            with pytest.raises(ConnectionClosed):
                await recv(ws)
            assert (ws.close_code, ws.close_reason) == (1007, "API key not valid. Please pass a valid API key.")

    run(no_key)


def test_gemini_manual_activity_and_voice_activity_messages():
    setup = json.loads(json.dumps(GEMINI_SETUP))
    setup["setup"]["realtimeInputConfig"] = {"automaticActivityDetection": {"disabled": True}}

    async def manual(emu, rec):
        async with connect(emu.gemini_url + "?key=k") as ws:
            await ws.send(json.dumps(setup))
            await recv(ws)
            await ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
            loud = wire_audio.synthesize(gemini_pcm(16_000), 400_000, 1500, 4)
            await ws.send(json.dumps({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000",
                                                                  "data": b64(loud)}}}))
            await ws.send(json.dumps({"realtimeInput": {"activityEnd": {}}}))
            await until(ws, "turnComplete", key="serverContent")

    rec = run(manual)
    assert [r["audio_ms"] for r in rec.of("realtime.speech_started") + rec.of("realtime.speech_stopped")] == [0, 400]
    assert rec.of("realtime.response_created")[0]["reason"] == "vad"

    async def signalled(emu, rec):
        voiced = wire_audio.synthesize(gemini_pcm(16_000), 300_000, 1500, 4) + b"\x00" * 32_000
        async with connect(emu.gemini_url + "?key=k") as ws:
            await ws.send(json.dumps(GEMINI_SETUP))
            await recv(ws)
            await ws.send(json.dumps({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000",
                                                                  "data": b64(voiced)}}}))
            kinds = [e["voiceActivity"]["voiceActivityType"] for e in (await recv(ws), await recv(ws))]
            assert kinds == ["ACTIVITY_START", "ACTIVITY_END"]

    run(signalled, script=dataclasses.replace(FAST, gemini_voice_activity=True))
