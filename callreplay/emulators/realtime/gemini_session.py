"""Gemini Live (BidiGenerateContent) on one socket (sheet Part 2).

``setup`` first, answered by ``setupComplete`` or, when invalid, by closing the socket with the service's
code and reason (1007 bad field or value, 1008 unknown model); then ``realtimeInput`` audio (PCM16,
16 kHz unless the MIME type says otherwise) through the same server VAD as the OpenAI side, and
``serverContent`` turns of 24 kHz PCM16. Field names are accepted in camelCase and snake_case.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from . import audio as wire_audio
from .catalogue import GEMINI_OUTPUT_MIME, GEMINI_OUTPUT_RATE, gemini_pcm, parse_gemini_mime
from .connection import Connection
from .rules import camel_keys, gemini_close_for, snake_to_camel, validate_session
from .session_state import dig, tool_specs
from .streaming import ActiveResponse

MESSAGE_KINDS = ("setup", "clientContent", "realtimeInput", "toolResponse")
INVALID_ARGUMENT = "Request contains an invalid argument."
BAD_KEY = "API key not valid. Please pass a valid API key."


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        return None
    texts = [p["text"] for p in content["parts"] if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return " ".join(texts) if texts else None


class GeminiConnection(Connection):
    provider = "gemini"
    fault_code = 1011

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup: dict | None = None
        self.meter: wire_audio.InputMeter | None = None

    # -- configuration read from setup -------------------------------------------------------------------
    def _input_config(self) -> dict:
        cfg = (self.setup or {}).get("realtimeInputConfig")
        return cfg if isinstance(cfg, dict) else {}

    @property
    def vad_automatic(self) -> bool:
        aad = self._input_config().get("automaticActivityDetection")
        return not (isinstance(aad, dict) and aad.get("disabled") is True)

    @property
    def barge_in(self) -> bool:
        return self._input_config().get("activityHandling") != "NO_INTERRUPTION"

    @property
    def audio_out(self) -> bool:
        gen = (self.setup or {}).get("generationConfig") or {}
        return (gen.get("responseModalities") or ["AUDIO"]) == ["AUDIO"]

    # -- recording ---------------------------------------------------------------------------------------
    def summarise_server(self, event: dict) -> dict:
        turn = (event.get("serverContent") or {}).get("modelTurn")
        if not turn:
            return event
        parts = []
        for part in turn.get("parts", []):
            blob = part.get("inlineData")
            if blob and isinstance(blob.get("data"), str):
                raw = base64.b64decode(blob["data"])
                part = {**part, "inlineData": {**blob, "data": wire_audio.summary(raw, gemini_pcm(GEMINI_OUTPUT_RATE))}}
            parts.append(part)
        return {**event, "serverContent": {**event["serverContent"], "modelTurn": {**turn, "parts": parts}}}

    def _summarise_blob(self, blob: Any) -> Any:
        if not isinstance(blob, dict) or not isinstance(blob.get("data"), str):
            return blob
        rate = parse_gemini_mime(str(blob.get("mimeType") or blob.get("mime_type") or "audio/pcm"))
        audio = self.inbound_audio(blob["data"], gemini_pcm(rate) if rate else None)
        if audio is None:
            return {**blob, "data": {"invalid_base64": True, "length": len(blob["data"])}}
        return {**blob, "data": audio.summary}

    def summarise_client(self, event: dict) -> dict:
        key = "realtimeInput" if "realtimeInput" in event else "realtime_input" if "realtime_input" in event else None
        if key is None or not isinstance(event[key], dict):
            return event
        body = dict(event[key])
        if "audio" in body:
            body["audio"] = self._summarise_blob(body["audio"])
        for name in ("mediaChunks", "media_chunks"):
            if isinstance(body.get(name), list):
                body[name] = [self._summarise_blob(b) for b in body[name]]
        return {**event, key: body}

    async def refuse(self, code: int, reason: str) -> None:
        self.record("realtime.error", {"code": code, "message": reason, "param": None, "event_id": None})
        await self.close(code, reason)

    # -- open and dispatch -------------------------------------------------------------------------------
    def has_auth(self) -> bool:
        return bool(self.query.get("key") or self.query.get("access_token") or self.headers.get("x-goog-api-key")
                    or self.headers.get("authorization"))

    async def on_open(self) -> None:
        if self.script.require_auth and not self.has_auth():
            await self.refuse(1007, BAD_KEY)

    async def on_text(self, text: str) -> None:
        try:
            raw = json.loads(text)
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            self.record_unparsable(text)
            await self.refuse(1007, "Invalid JSON payload received.")
            return
        self.record("realtime.client_event", self.summarise_client(raw))
        message = {snake_to_camel(k): v for k, v in raw.items()}
        kinds = [k for k in message if k in MESSAGE_KINDS]
        unknown = [k for k in message if k not in MESSAGE_KINDS]
        if unknown:
            await self.refuse(1007, f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.')
            return
        if len(kinds) != 1:
            await self.refuse(1007, INVALID_ARGUMENT)
            return
        kind = kinds[0]
        body = message[kind]
        if self.setup is None and kind != "setup":
            await self.refuse(1007, INVALID_ARGUMENT)  # setup must come first (sheet 2.1)
            return
        if kind == "setup":
            await self.on_setup(body)
        elif kind == "realtimeInput":
            await self.on_realtime_input(camel_keys(body))
        elif kind == "clientContent":
            await self.on_client_content(camel_keys(body))
        # toolResponse: recorded above; the emulated model never calls tools, so nothing answers it

    # -- setup -------------------------------------------------------------------------------------------
    async def on_setup(self, body: Any) -> None:
        if self.setup is not None:
            await self.refuse(1007, INVALID_ARGUMENT)  # only the first message may be setup
            return
        problems = validate_session(body, "gemini")
        setup = camel_keys(body) if isinstance(body, dict) else {}
        gen_config = setup.get("generationConfig")
        gen = gen_config if isinstance(gen_config, dict) else {}
        voice = dig(gen, "speechConfig", "voiceConfig", "prebuiltVoiceConfig", "voiceName")
        modalities = gen.get("responseModalities")
        tools = setup.get("tools")
        rejection = self.script.reject_session_update
        accepted = not problems and rejection is None
        self.model = setup.get("model") if isinstance(setup.get("model"), str) else self.model
        aad = dig(setup, "realtimeInputConfig", "automaticActivityDetection")
        self.record("realtime.session_update", {
            "instructions": _text_of(setup.get("systemInstruction")), "voice": voice,
            "input_audio_format": "audio/pcm;rate=16000",
            "output_audio_format": GEMINI_OUTPUT_MIME if modalities in (None, ["AUDIO"]) else None,
            "turn_detection": aad if aad is not None else {"automatic": True}, "temperature": gen.get("temperature"),
            "modalities": modalities, "noise_reduction": None,
            "tools": len(tools) if isinstance(tools, list) else None, "tool_specs": tool_specs(tools),
            "update_number": 1, "accepted": accepted,
            "problems": [{"param": p.param, "code": p.code, "message": p.message} for p in problems]})
        if problems:
            await self.refuse(*gemini_close_for(problems[0]))
            return
        if rejection is not None:
            await self.refuse(1008 if rejection.code == "model_not_found" else 1007, rejection.text()[:123])
            return
        self.setup = setup
        if self.script.never_confirm:
            return
        await self.send({"setupComplete": {}})
        self.record("realtime.session_updated", {"update_number": 1})

    # -- input -------------------------------------------------------------------------------------------
    async def on_realtime_input(self, body: Any) -> None:
        if not isinstance(body, dict):
            await self.refuse(1007, INVALID_ARGUMENT)
            return
        blobs = ([body["audio"]] if isinstance(body.get("audio"), dict) else []) + [
            b for b in body.get("mediaChunks") or [] if isinstance(b, dict)]
        for blob in blobs:
            await self._audio(blob)
        if isinstance(body.get("text"), str):
            self.record("realtime.item_created", {"item_id": None, "type": "text", "role": "user",
                                                  "content": body["text"]})
            await self._user_turn()
        if "activityStart" in body or "activityEnd" in body:
            if self.vad_automatic:
                self.record("realtime.error", {"code": 1007, "message": "activityStart/activityEnd sent while "
                                               "automatic activity detection is enabled", "param": None,
                                               "event_id": None})
            elif "activityStart" in body:
                await self._speech_started(self._audio_ms())
            else:
                await self._speech_stopped(self._audio_ms())

    def _audio_ms(self) -> int:
        return int(self.meter.received_ms) if self.meter else 0

    async def _audio(self, blob: dict) -> None:
        data = blob.get("data")
        if not isinstance(data, str):
            await self.refuse(1007, INVALID_ARGUMENT)
            return
        rate = parse_gemini_mime(str(blob.get("mimeType") or "audio/pcm"))
        fmt = gemini_pcm(rate) if rate else None
        decoded = self.inbound_audio(data, fmt)
        if decoded is None:
            await self.refuse(1007, "Invalid value at 'realtime_input.audio.data' (TYPE_BYTES), Base64 decoding failed")
            return
        raw = decoded.raw
        self.audio_hook(raw)
        if fmt is None:  # another container (wav, ogg...): accepted, not metered
            self.record("realtime.audio_in", {"bytes": len(raw), "frames": 0, "rms": None})
            return
        if self.meter is None:
            self.meter = wire_audio.InputMeter(fmt)
        elif self.meter.fmt != fmt:
            self.meter = self.meter.continued(fmt)
        times, rms = self.meter.feed(raw)
        self.record("realtime.audio_in", {"bytes": len(raw), "frames": len(times), "rms": decoded.summary["rms"]})
        if not self.vad_automatic or not len(times):
            return
        for t_us, what in self.vad.feed(times, rms):
            if what == "speech_started":
                await self._speech_started(t_us // 1000)
            else:
                await self._speech_stopped(t_us // 1000 + wire_audio.FRAME_MS)

    async def _speech_started(self, audio_ms: int) -> None:
        self.record("realtime.speech_started", {"audio_ms": audio_ms})
        if self.script.gemini_voice_activity:
            await self.send({"voiceActivity": {"voiceActivityType": "ACTIVITY_START"}})
        if self.active is not None and self.barge_in:
            await self.stop_active("turn_detected")

    async def _speech_stopped(self, audio_ms: int) -> None:
        self.record("realtime.speech_stopped", {"audio_ms": audio_ms})
        if self.script.gemini_voice_activity:
            await self.send({"voiceActivity": {"voiceActivityType": "ACTIVITY_END"}})
        if self.active is None:
            await self.begin_response("vad")

    async def on_client_content(self, body: Any) -> None:
        if not isinstance(body, dict):
            await self.refuse(1007, INVALID_ARGUMENT)
            return
        for turn in body.get("turns") or []:
            if isinstance(turn, dict):
                self.record("realtime.item_created", {"item_id": None, "type": "message",
                                                      "role": turn.get("role", "user"), "content": _text_of(turn)})
        if body.get("turnComplete") is True:
            await self._user_turn()

    async def _user_turn(self) -> None:
        """New user input: it interrupts the model's turn (sheet 2.4) and the model answers it."""
        if self.active is not None:
            await self.stop_active("turn_detected")
        await self.begin_response("client")

    # -- responses ---------------------------------------------------------------------------------------
    async def start_response(self, duration_s: float | None = None, transcript: str | None = None,
                             reason: str = "scripted") -> str:
        if self.active is not None:
            raise RuntimeError(f"{self.id}: response {self.active.id} is still active")
        if self.setup is None:
            raise RuntimeError(f"{self.id}: no setup yet, the model cannot speak")
        return await self.begin_response(reason, duration_s, transcript)

    async def begin_response(self, reason: str, duration_s: float | None = None, transcript: str | None = None) -> str:
        fmt = gemini_pcm(GEMINI_OUTPUT_RATE) if self.audio_out else None
        resp = self.new_response("turn", reason, duration_s, transcript, fmt)
        self.active = resp
        self.record("realtime.response_created", {"response_id": resp.id, "reason": reason})
        self.stream_in_background(resp)
        return resp.id

    async def stream_response(self, resp: ActiveResponse) -> None:
        fmt = resp.fmt
        transcribe = isinstance((self.setup or {}).get("outputAudioTranscription"), dict)

        async def send_chunk(data: bytes, words: str) -> None:
            if data and fmt is not None:
                def turn(blob: object) -> dict:
                    part = {"inlineData": {"mimeType": GEMINI_OUTPUT_MIME, "data": blob}}
                    return {"serverContent": {"modelTurn": {"role": "model", "parts": [part]}}}

                await self.send(turn(base64.b64encode(data).decode()), turn(wire_audio.summary(data, fmt)))
                self.record("realtime.audio_out", {"response_id": resp.id, "bytes": len(data),
                                                   "duration_us": fmt.duration_us(len(data))})
            if words and fmt is None:
                await self.send({"serverContent": {"modelTurn": {"role": "model", "parts": [{"text": words}]}}})
            elif words and transcribe:
                await self.send({"serverContent": {"outputTranscription": {"text": words}}})

        finished = await self.deliver_audio(resp, send_chunk)
        if self.active is resp:
            self.active = None
        usage = {"promptTokenCount": 0, "responseTokenCount": len(resp.spoken_text.split()),
                 "totalTokenCount": len(resp.spoken_text.split())}
        if finished:
            await self.send({"serverContent": {"generationComplete": True}})
            await self.send({"serverContent": {"turnComplete": True}, "usageMetadata": usage})
        elif resp.cancel_reason == "turn_detected":
            await self.send({"serverContent": {"interrupted": True}})
            await self.send({"serverContent": {"turnComplete": True}, "usageMetadata": usage})
        status = "completed" if finished else "cancelled"
        self.record("realtime.response_done", {"response_id": resp.id, "status": status,
                                               "audio_ms": round(resp.audio_ms, 3),
                                               "reason": None if finished else resp.cancel_reason,
                                               "transcript": resp.spoken_text})
