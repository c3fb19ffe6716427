"""One OpenAI Realtime response, start to ``response.done``, with each interface's event names (sheet 1.7).

``response.created`` is sent before ``begin_response`` returns, so a caller that awaits it knows the
response exists; the rest runs as a task the connection can stop (cancel, barge-in, close).
"""

from __future__ import annotations

import base64

from . import audio as wire_audio
from . import session_state as state
from .connection import Connection
from .streaming import ActiveResponse

BETA_NAMES = {"audio_delta": "response.audio.delta", "audio_done": "response.audio.done",
              "transcript_delta": "response.audio_transcript.delta", "transcript_done": "response.audio_transcript.done",
              "text_delta": "response.text.delta", "text_done": "response.text.done"}
GA_NAMES = {"audio_delta": "response.output_audio.delta", "audio_done": "response.output_audio.done",
            "transcript_delta": "response.output_audio_transcript.delta",
            "transcript_done": "response.output_audio_transcript.done",
            "text_delta": "response.output_text.delta", "text_done": "response.output_text.done"}


class ResponseRunner(Connection):
    """Response machinery of :class:`~.openai_session.OpenAIConnection` (which provides the state below)."""

    session: dict
    items: list[dict]
    assistant_audio_sent: bool
    item_audio_ms: dict[str, float]

    async def item_added(self, item: dict, previous: str | None, text: str | None) -> None:
        raise NotImplementedError

    def _names(self) -> dict[str, str]:
        return BETA_NAMES if self.interface == "beta" else GA_NAMES

    def _response_object(self, resp: ActiveResponse, status: str, output: list[dict]) -> dict:
        obj: dict = {"object": "realtime.response", "id": resp.id, "status": status, "status_details": None,
                     "output": output, "conversation_id": None, "metadata": None, "usage": None}
        if status == "cancelled":
            obj["status_details"] = {"type": "cancelled", "reason": resp.cancel_reason}
        if status in ("completed", "cancelled"):
            out_tokens = len(resp.spoken_text.split())
            obj["usage"] = {"total_tokens": out_tokens, "input_tokens": 0, "output_tokens": out_tokens,
                            "input_token_details": {"cached_tokens": 0, "text_tokens": 0, "audio_tokens": 0},
                            "output_token_details": {"text_tokens": out_tokens, "audio_tokens": 0}}
        if self.interface == "beta":
            obj.update({"modalities": self.session.get("modalities"), "voice": self.session.get("voice"),
                        "output_audio_format": self.session.get("output_audio_format"),
                        "temperature": self.session.get("temperature"),
                        "max_output_tokens": self.session.get("max_response_output_tokens")})
        else:
            obj.update({"output_modalities": self.session.get("output_modalities"),
                        "audio": {"output": (self.session.get("audio") or {}).get("output")}})
        return obj

    async def begin_response(self, reason: str, duration_s: float | None = None, transcript: str | None = None,
                             overrides: dict | None = None) -> str:
        """Send ``response.created`` and start streaming; ``reason`` is ``client``, ``vad`` or ``scripted``.

        ``overrides`` is ``response.create``'s ``response`` object: its modalities apply to this reply,
        its instructions are recorded (a per-response prompt is a prompt a detector must see).
        """
        overrides = overrides or {}
        modalities = overrides.get("modalities" if self.interface == "beta" else "output_modalities")
        with_audio = state.audio_out_enabled(self.session, self.interface) if not isinstance(modalities, list) \
            else "audio" in modalities
        fmt = state.output_format(self.session, self.interface) if with_audio else None
        resp = self.new_response("resp", reason, duration_s, transcript, fmt)
        self.active = resp
        await self.send({"type": "response.created", "event_id": self.new_id("event"),
                         "response": self._response_object(resp, "in_progress", [])})
        created: dict = {"response_id": resp.id, "reason": reason}
        if "instructions" in overrides:
            created["instructions"] = overrides["instructions"]
        self.record("realtime.response_created", created)
        self.stream_in_background(resp)
        return resp.id

    def _ids(self, resp: ActiveResponse) -> dict:
        return {"response_id": resp.id, "item_id": resp.item_id, "output_index": 0, "content_index": 0}

    async def stream_response(self, resp: ActiveResponse) -> None:
        names, ids = self._names(), self._ids(resp)
        text_only = resp.fmt is None
        part_type = "text" if text_only else "audio"
        content_type = ("text" if self.interface == "beta" else "output_text") if text_only else (
            "audio" if self.interface == "beta" else "output_audio")
        item = {"id": resp.item_id, "object": "realtime.item", "type": "message", "status": "in_progress",
                "role": "assistant", "content": []}
        await self.send({"type": "rate_limits.updated", "event_id": self.new_id("event"),
                         "rate_limits": [{"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
                                         {"name": "tokens", "limit": 400000, "remaining": 399000,
                                          "reset_seconds": 0.15}]})
        await self.send({"type": "response.output_item.added", "event_id": self.new_id("event"),
                         "response_id": resp.id, "output_index": 0, "item": item})
        previous = self.items[-1]["id"] if self.items else None
        await self.item_added(dict(item), previous, None)
        stored = self.items[-1]
        await self.send({"type": "response.content_part.added", "event_id": self.new_id("event"), **ids,
                         "part": {"type": part_type, "transcript" if not text_only else "text": ""}})
        fmt = resp.fmt

        async def send_chunk(data: bytes, words: str) -> None:
            if data and fmt is not None:
                self.assistant_audio_sent = True
                event = {"type": names["audio_delta"], "event_id": self.new_id("event"), **ids,
                         "delta": base64.b64encode(data).decode()}
                await self.send(event, {**event, "delta": wire_audio.summary(data, fmt)})
                self.record("realtime.audio_out", {"response_id": resp.id, "bytes": len(data),
                                                   "duration_us": fmt.duration_us(len(data))})
            if words:
                key = "text_delta" if text_only else "transcript_delta"
                await self.send({"type": names[key], "event_id": self.new_id("event"), **ids, "delta": words})

        finished = await self.deliver_audio(resp, send_chunk)
        spoken = resp.spoken_text
        status = "completed" if finished else "cancelled"
        if text_only:
            await self.send({"type": names["text_done"], "event_id": self.new_id("event"), **ids, "text": spoken})
            part = {"type": "text", "text": spoken}
        else:
            await self.send({"type": names["audio_done"], "event_id": self.new_id("event"), **ids})
            await self.send({"type": names["transcript_done"], "event_id": self.new_id("event"), **ids,
                             "transcript": spoken})
            part = {"type": "audio", "transcript": spoken}
        await self.send({"type": "response.content_part.done", "event_id": self.new_id("event"), **ids, "part": part})
        content = {"type": content_type, ("text" if text_only else "transcript"): spoken}
        done_item = {**item, "status": "completed" if finished else "incomplete", "content": [content]}
        stored.update({"status": done_item["status"], "content": [content]})
        self.item_audio_ms[resp.item_id] = resp.audio_ms
        await self.send({"type": "response.output_item.done", "event_id": self.new_id("event"),
                         "response_id": resp.id, "output_index": 0, "item": done_item})
        if self.active is resp:
            self.active = None
        await self.send({"type": "response.done", "event_id": self.new_id("event"),
                         "response": self._response_object(resp, status, [done_item])})
        self.record("realtime.response_done", {"response_id": resp.id, "status": status,
                                               "audio_ms": round(resp.audio_ms, 3),
                                               "reason": resp.cancel_reason if not finished else None,
                                               "transcript": spoken})
