"""The OpenAI Realtime API, beta and GA interfaces, on one socket (sheet Part 1).

Client events are dispatched by ``type``; every reply follows the sheet's event names and order for the
interface the client selected with (beta) or without (GA) the ``OpenAI-Beta: realtime=v1`` header.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ...audio.signature import mulaw_signature
from . import audio as wire_audio
from . import session_state as state
from .openai_responses import ResponseRunner
from .rules import ConfigProblem, missing_parameter, validate_session

CLIENT_EVENTS = ("session.update", "input_audio_buffer.append", "input_audio_buffer.commit",
                 "input_audio_buffer.clear", "conversation.item.create", "conversation.item.truncate",
                 "conversation.item.delete", "conversation.item.retrieve", "response.create", "response.cancel",
                 "output_audio_buffer.clear", "transcription_session.update")
MIN_COMMIT_MS = 100
EVENT_ID_MAX = 512


class OpenAIConnection(ResponseRunner):
    provider = "openai"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = self.model or "gpt-realtime"
        self.session = state.default_session(self.interface, self.model, self.new_id("sess"))
        self.update_number = 0
        self.buffer = bytearray()
        self.meter = wire_audio.InputMeter(state.input_format(self.session, self.interface))
        self.pending_user_item: str | None = None
        self.items: list[dict] = []
        self.item_audio_ms: dict[str, float] = {}
        self.assistant_audio_sent = False

    @property
    def beta(self) -> bool:
        return self.interface == "beta"

    # -- recording ----------------------------------------------------------------------------------------
    def summarise_server(self, event: dict) -> dict:
        if event.get("type", "").endswith("audio.delta") and isinstance(event.get("delta"), str):
            raw = base64.b64decode(event["delta"])
            fmt = state.output_format(self.session, self.interface)
            return {**event, "delta": wire_audio.summary(raw, fmt)}
        return event

    async def error_missing(self, param: str, client_id: str | None) -> None:
        problem = missing_parameter(param)
        await self.error(problem.code, problem.message, problem.param, client_id)

    async def error(self, code: str | None, message: str, param: str | None = None,
                    client_event_id: str | None = None, kind: str = "invalid_request_error") -> None:
        await self.send({"type": "error", "event_id": self.new_id("event"),
                         "error": {"type": kind, "code": code, "message": message, "param": param,
                                   "event_id": client_event_id}})
        self.record("realtime.error", {"code": code, "message": message, "param": param, "event_id": client_event_id})

    # -- open ---------------------------------------------------------------------------------------------
    def has_auth(self) -> bool:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and auth[7:].strip():
            return True
        protocols = self.headers.get("sec-websocket-protocol", "")
        return any(p.strip().startswith("openai-insecure-api-key.") for p in protocols.split(","))

    async def on_open(self) -> None:
        if self.script.require_auth and not self.has_auth():
            # observed reply to a socket without credentials (langchain_dart #599); then we close
            await self.error(None, "Missing bearer or basic authentication in header")
            await self.close(1008, "missing authentication")
            return
        await self.send({"type": "session.created", "event_id": self.new_id("event"), "session": self.session})
        if self.beta:
            await self.send({"type": "conversation.created", "event_id": self.new_id("event"),
                             "conversation": {"id": self.new_id("conv"), "object": "realtime.conversation"}})

    # -- dispatch -----------------------------------------------------------------------------------------
    async def on_text(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError as exc:
            self.record_unparsable(text)
            await self.error("invalid_json", f"Invalid JSON: the event could not be parsed ({exc}).")
            return
        if not isinstance(event, dict):
            self.record_unparsable(text)
            await self.error("invalid_event", "The event must be a JSON object.")
            return
        self.record("realtime.client_event", self.summarise_client(event))
        client_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        if client_id is not None and len(client_id) > EVENT_ID_MAX:
            await self.error("string_above_max_length", f"Invalid 'event_id': string too long. Expected a string "
                             f"with maximum length {EVENT_ID_MAX}, but got a string with length {len(client_id)} "
                             "instead.", "event_id", None)
            return
        if kind is None:
            await self.error("invalid_event", "The 'type' field is missing.", None, client_id)
            return
        if kind not in CLIENT_EVENTS:
            await self.error("invalid_value", f"Invalid value: '{kind}'. Supported values are: "
                             + ", ".join(f"'{k}'" for k in CLIENT_EVENTS) + ".", "type", client_id)
            return
        handler = getattr(self, "on_" + kind.replace(".", "_"))
        await handler(event, client_id)

    def summarise_client(self, event: dict) -> dict:
        if event.get("type") == "input_audio_buffer.append" and isinstance(event.get("audio"), str):
            audio = self.inbound_audio(event["audio"], self.meter.fmt)
            if audio is None:
                return {**event, "audio": {"invalid_base64": True, "length": len(event["audio"])}}
            return {**event, "audio": audio.summary}
        return event

    # -- session.update -----------------------------------------------------------------------------------
    async def on_session_update(self, event: dict, client_id: str | None) -> None:
        self.update_number += 1
        update = event.get("session")
        problems = self._update_problems(event)
        rejection = self.script.reject_session_update
        accepted = not problems and rejection is None
        fields = state.semantic_fields(update if isinstance(update, dict) else {}, self.interface)
        self.record("realtime.session_update", {**fields, "update_number": self.update_number, "accepted": accepted,
                                                "problems": [{"param": p.param, "code": p.code, "message": p.message}
                                                             for p in problems]})
        if problems:
            first = problems[0]
            param = None if first.code == "cannot_update_voice" else first.param
            await self.error(first.code, first.message, param, client_id)
            return
        if rejection is not None:
            await self.error(rejection.code, rejection.text(), rejection.param, client_id, rejection.type)
            return
        assert isinstance(update, dict)
        old_in = state.input_format(self.session, self.interface)
        self.session = state.merge(self.session, update)
        new_in = state.input_format(self.session, self.interface)
        if new_in != old_in:
            self.meter = self.meter.continued(new_in)
        if self.script.never_confirm:
            return
        await self.send({"type": "session.updated", "event_id": self.new_id("event"), "session": self.session})
        self.record("realtime.session_updated", {"update_number": self.update_number})

    def _update_problems(self, event: dict) -> list[ConfigProblem]:
        """What the service would refuse in a ``session.update``: the rules, then a voice change once
        the assistant has spoken (the voice is fixed from the first audio on)."""
        if "session" not in event:
            return [missing_parameter("session")]
        update = event["session"]
        problems = validate_session(update, self.interface)
        if problems or not isinstance(update, dict) or not self.assistant_audio_sent:
            return problems
        new_voice = state.voice(state.merge(self.session, update), self.interface)
        if new_voice == state.voice(self.session, self.interface):
            return []
        return [ConfigProblem("session.voice", new_voice, "cannot_update_voice",
                              "Cannot update a conversation's voice if assistant audio is present.")]

    async def on_transcription_session_update(self, event: dict, client_id: str | None) -> None:
        await self.error("invalid_value", "transcription_session.update is only valid on a transcription session.",
                         "type", client_id)

    # -- input audio --------------------------------------------------------------------------------------
    async def on_input_audio_buffer_append(self, event: dict, client_id: str | None) -> None:
        audio = event.get("audio")
        if not isinstance(audio, str):
            await self.error_missing("audio", client_id)
            return
        decoded = self.inbound_audio(audio, self.meter.fmt)
        if decoded is None:
            await self.error("invalid_value", "Invalid 'audio': the value is not valid base64.", "audio", client_id)
            return
        raw = decoded.raw
        self.buffer.extend(raw)
        times, rms = self.meter.feed(raw)
        fmt = self.meter.fmt
        sig = {"sig": mulaw_signature(raw)} if fmt.codec == "ulaw" and fmt.sample_rate == 8_000 else {}
        self.record("realtime.audio_in", {"bytes": len(raw), "frames": len(times), "rms": decoded.summary["rms"],
                                          **sig})  # sig: what echo-forwarded compares with what Twilio played
        self.audio_hook(raw)
        td = state.turn_detection(self.session, self.interface)
        if td is None or not len(times):
            return
        for t_us, what in self.vad.feed(times, rms):
            if what == "speech_started":
                await self._speech_started(t_us, td)
            else:
                await self._speech_stopped(t_us, td)

    async def _speech_started(self, t_us: int, td: dict) -> None:
        self.pending_user_item = self.new_id("item")
        start_ms = max(0, t_us // 1000 - int(td.get("prefix_padding_ms", 300) or 0))
        await self.send({"type": "input_audio_buffer.speech_started", "event_id": self.new_id("event"),
                         "audio_start_ms": start_ms, "item_id": self.pending_user_item})
        self.record("realtime.speech_started", {"audio_ms": start_ms})
        if self.active is not None and td.get("interrupt_response", True):
            await self.stop_active("turn_detected")

    async def _speech_stopped(self, t_us: int, td: dict) -> None:
        end_ms = t_us // 1000 + wire_audio.FRAME_MS
        item_id = self.pending_user_item or self.new_id("item")
        self.pending_user_item = None
        await self.send({"type": "input_audio_buffer.speech_stopped", "event_id": self.new_id("event"),
                         "audio_end_ms": end_ms, "item_id": item_id})
        self.record("realtime.speech_stopped", {"audio_ms": end_ms})
        await self._commit(item_id)
        if td.get("create_response", True) and self.active is None:
            await self.begin_response("vad")

    async def _commit(self, item_id: str) -> None:
        previous = self.items[-1]["id"] if self.items else None
        await self.send({"type": "input_audio_buffer.committed", "event_id": self.new_id("event"),
                         "item_id": item_id, "previous_item_id": previous})
        content_type = "input_audio"
        item = {"id": item_id, "object": "realtime.item", "type": "message", "status": "completed", "role": "user",
                "content": [{"type": content_type, "transcript": None}]}
        self.buffer.clear()
        await self.item_added(item, previous, None)

    async def on_input_audio_buffer_commit(self, event: dict, client_id: str | None) -> None:
        have_ms = len(self.buffer) * 1000 / self.meter.fmt.bytes_per_second
        if have_ms < MIN_COMMIT_MS:
            await self.error("input_audio_buffer_commit_empty", "Error committing input audio buffer: buffer too "
                             f"small. Expected at least {MIN_COMMIT_MS}ms of audio, but buffer only has "
                             f"{have_ms:.2f}ms of audio.", None, client_id)
            return
        await self._commit(self.pending_user_item or self.new_id("item"))
        self.pending_user_item = None

    async def on_input_audio_buffer_clear(self, event: dict, client_id: str | None) -> None:
        self.buffer.clear()
        await self.send({"type": "input_audio_buffer.cleared", "event_id": self.new_id("event")})

    async def on_output_audio_buffer_clear(self, event: dict, client_id: str | None) -> None:
        await self.error("invalid_value", "output_audio_buffer.clear is only supported on WebRTC and SIP sessions.",
                         "type", client_id)

    # -- conversation items -------------------------------------------------------------------------------
    async def item_added(self, item: dict, previous: str | None, text: str | None) -> None:
        """Store an item, announce it the way the interface does, record ``realtime.item_created``."""
        self.items.append(item)
        if self.beta:
            await self.send({"type": "conversation.item.created", "event_id": self.new_id("event"),
                             "previous_item_id": previous, "item": item})
        else:
            for name in ("conversation.item.added", "conversation.item.done"):
                await self.send({"type": name, "event_id": self.new_id("event"), "previous_item_id": previous,
                                 "item": item})
        self.record("realtime.item_created", {"item_id": item.get("id"), "type": item.get("type"),
                                              "role": item.get("role"), "content": text})

    def find_item(self, item_id: object) -> dict | None:
        return next((i for i in self.items if i.get("id") == item_id), None)

    async def _item_named_by(self, event: dict, client_id: str | None) -> dict | None:
        """The item ``event["item_id"]`` names; None, after answering ``item_not_found``, when there is none."""
        item = self.find_item(event.get("item_id"))
        if item is None:
            await self.error("item_not_found", f"Item with item_id '{event.get('item_id')}' not found.", "item_id",
                             client_id)
        return item

    async def on_conversation_item_create(self, event: dict, client_id: str | None) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            await self.error_missing("item", client_id)
            return
        if not self.beta and "type" not in item:
            await self.error_missing("item.type", client_id)
            return
        previous = event.get("previous_item_id")
        if previous not in (None, "root") and self.find_item(previous) is None:
            await self.error("item_not_found", f"Item with item_id '{previous}' not found.", "previous_item_id",
                             client_id)
            return
        stored = {"id": item.get("id") or self.new_id("item"), "object": "realtime.item", "status": "completed",
                  **{k: v for k, v in item.items() if k != "id"}}
        raw_content = item.get("content")
        content: list = raw_content if isinstance(raw_content, list) else []
        texts = [str(c.get("text") or c.get("transcript") or "") for c in content if isinstance(c, dict)]
        text = " ".join(t for t in texts if t) or item.get("output") or None
        last = self.items[-1]["id"] if self.items else None
        await self.item_added(stored, last if previous is None else previous, text)

    async def on_conversation_item_truncate(self, event: dict, client_id: str | None) -> None:
        item = await self._item_named_by(event, client_id)
        if item is None:
            return
        end_ms = event.get("audio_end_ms")
        if not isinstance(end_ms, int) or isinstance(end_ms, bool) or end_ms < 0:
            await self.error("invalid_value", "Invalid 'audio_end_ms': expected a non-negative integer.",
                             "audio_end_ms", client_id)
            return
        if item.get("role") != "assistant":
            await self.error("invalid_value", "Only model output audio messages can be truncated", "item_id", client_id)
            return
        length = self.item_audio_ms.get(item["id"])
        if isinstance(length, (int, float)) and end_ms > length:
            await self.error("invalid_value", f"Audio content of {length:.0f}ms is already shorter than "
                             f"{end_ms}ms", "audio_end_ms", client_id)
            return
        await self.send({"type": "conversation.item.truncated", "event_id": self.new_id("event"),
                         "item_id": item["id"], "content_index": event.get("content_index", 0),
                         "audio_end_ms": end_ms})

    async def on_conversation_item_delete(self, event: dict, client_id: str | None) -> None:
        item = await self._item_named_by(event, client_id)
        if item is None:
            return
        self.items.remove(item)
        await self.send({"type": "conversation.item.deleted", "event_id": self.new_id("event"), "item_id": item["id"]})

    async def on_conversation_item_retrieve(self, event: dict, client_id: str | None) -> None:
        item = await self._item_named_by(event, client_id)
        if item is None:
            return
        await self.send({"type": "conversation.item.retrieved", "event_id": self.new_id("event"),
                         "item": item})

    # -- responses ----------------------------------------------------------------------------------------
    async def on_response_create(self, event: dict, client_id: str | None) -> None:
        turn = self.next_turn()
        failure = (turn and turn.fail_response_create) or self.script.fail_response_create
        if failure is not None:
            await self.error(failure.code, failure.text(), failure.param, client_id, failure.type)
            return
        if self.active is not None:
            await self.error("conversation_already_has_active_response", "Conversation already has an active "
                             f"response in progress: {self.active.id}. Wait until the response is finished before "
                             "creating a new one.", None, client_id)
            return
        overrides = event.get("response")
        if overrides is not None and not isinstance(overrides, dict):
            await self.error("invalid_type", "Invalid type for 'response': expected an object, but got "
                             f"{type(overrides).__name__} instead.", "response", client_id)
            return
        self.turn_in_flight = turn
        await self.begin_response("client", turn.response_duration_s if turn else None, overrides=overrides)

    async def on_response_cancel(self, event: dict, client_id: str | None) -> None:
        wanted = event.get("response_id")
        if self.active is None or (wanted is not None and wanted != self.active.id):
            await self.error("response_cancel_not_active", "Cancellation failed: no active response found", None,
                             client_id)
            return
        await self.stop_active("client_cancelled")

    async def start_response(self, duration_s: float | None = None, transcript: str | None = None,
                             reason: str = "scripted") -> str:
        if self.active is not None:
            raise RuntimeError(f"{self.id}: response {self.active.id} is still active")
        return await self.begin_response(reason, duration_s, transcript)
