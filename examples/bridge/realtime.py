"""The OpenAI Realtime side: connecting, and the event names and session shape of the beta and GA interfaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from examples.bridge.config import Settings

CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 2.0
TEMPERATURE = 0.8
BAD_TEMPERATURE = 0.1  # below the documented minimum of 0.6
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")


@dataclass(frozen=True)
class Dialect:
    """Event names and the ``session.update`` shape of one interface: beta (``OpenAI-Beta: realtime=v1``) or GA."""

    beta: bool

    @property
    def audio_delta(self) -> str:
        return "response.audio.delta" if self.beta else "response.output_audio.delta"

    @property
    def audio_done(self) -> str:
        return "response.audio.done" if self.beta else "response.output_audio.done"

    def session_update(self, instructions: str, voice: str, temperature: float | None,
                       tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A ``session.update`` for a phone call: G.711 mu-law both ways, server VAD, the given voice.

        GA has no temperature field; one is sent there only when a bug switch asks for it. ``tools`` and
        ``tool_choice`` are sent only when there are tools (both interfaces take the same shape).
        """
        turn_detection = {"type": "server_vad"}
        session: dict[str, Any]
        if self.beta:
            session = {"modalities": ["audio", "text"], "instructions": instructions, "voice": voice,
                       "input_audio_format": "g711_ulaw", "output_audio_format": "g711_ulaw",
                       "turn_detection": turn_detection, "temperature": TEMPERATURE}
        else:
            session = {"type": "realtime", "output_modalities": ["audio"], "instructions": instructions,
                       "audio": {"input": {"format": {"type": "audio/pcmu"}, "turn_detection": turn_detection},
                                 "output": {"format": {"type": "audio/pcmu"}, "voice": voice}}}
        if temperature is not None:
            session["temperature"] = temperature
        if tools:
            session["tools"], session["tool_choice"] = tools, "auto"
        return {"type": "session.update", "session": session}


def other_voice(voice: str) -> str:
    """A valid realtime voice that is not ``voice`` (for the ``wrong-voice`` switch)."""
    return next(v for v in VOICES if v != voice)


async def open_session(settings: Settings) -> ClientConnection:
    """Connect to the realtime endpoint with the API key.

    For ``wss`` websockets builds the TLS context with ``ssl.create_default_context()`` (the default CA store,
    ``SSL_CERT_FILE``); ``ws`` is plain.
    """
    headers = {"Authorization": f"Bearer {settings.openai_api_key}"}
    if settings.openai_beta:
        headers["OpenAI-Beta"] = "realtime=v1"
    return await connect(settings.openai_realtime_url, additional_headers=headers, open_timeout=CONNECT_TIMEOUT_S,
                         close_timeout=CLOSE_TIMEOUT_S)
