"""How the emulated model behaves on one connection: reply lengths and words, pacing, failure modes.

Defaults match the in-process model (``PipelineConfig``: 3 s greeting, 2 s auto response, the server-VAD
thresholds) so a scenario behaves alike in both modes unless it says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...pipeline.config import PipelineConfig

_DEFAULTS = PipelineConfig()


@dataclass(frozen=True, slots=True)
class Rejection:
    """An error the emulator answers with instead of the normal reply (``error.code``/``param``/``message``)."""

    code: str = "invalid_value"
    param: str | None = None
    message: str | None = None
    type: str = "invalid_request_error"

    def text(self) -> str:
        if self.message:
            return self.message
        return f"Invalid value for '{self.param}'." if self.param else "The request was rejected."


@dataclass(frozen=True, slots=True)
class TurnScript:
    """How one client-requested turn (the Nth ``response.create``) differs from the session's script: it fails,
    is longer or shorter, is delivered faster or slower, or in other chunk sizes. ``None`` keeps the session's."""

    fail_response_create: Rejection | None = None
    response_duration_s: float | None = None
    delivery_rate: float | None = None
    chunk_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class RealtimeScript:
    """Per-connection behaviour. Durations in seconds; ``delivery_rate`` 2.0 sends audio twice as fast
    as it plays, 0.5 half as fast, ``math.inf`` with no pauses."""

    greeting_duration_s: float = _DEFAULTS.greeting_duration_us / 1e6
    greeting_transcript: str = "Hello, thanks for calling. How can I help you today?"
    response_duration_s: float = _DEFAULTS.greeting_duration_us / 1e6
    response_transcript: str = "Sure, I can help with that."
    auto_response_duration_s: float = _DEFAULTS.auto_response_duration_us / 1e6
    auto_response_transcript: str = "I see. Could you tell me a little more?"
    delivery_rate: float = 1.0
    chunk_bytes: int | None = None  # None: 20 ms of the output format (160 B G.711, 960 B pcm16 24 kHz)
    response_latency_s: float = 0.0  # between response.created and the first audio delta
    reply_rms: float = 1500.0
    seed: int = 1
    vad_rms: int = _DEFAULTS.server_vad_rms
    vad_start_frames: int = _DEFAULTS.server_vad_start_frames
    vad_silence_ms: int = _DEFAULTS.server_vad_silence_us // 1000
    reject_session_update: Rejection | None = None
    never_confirm: bool = False
    fail_response_create: Rejection | None = None
    turns: tuple[TurnScript, ...] = ()  # OpenAI interfaces: entry N applies to the Nth response.create
    require_auth: bool = True
    gemini_voice_activity: bool = False  # send voiceActivity messages (allow-listed on the real service)

    def __post_init__(self) -> None:
        problems = []
        for name in ("greeting_duration_s", "response_duration_s", "auto_response_duration_s", "response_latency_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or math.isnan(value):
                problems.append(f"{name} must be a number of seconds >= 0, got {value!r}")
        if not isinstance(self.delivery_rate, (int, float)) or not self.delivery_rate > 0:
            problems.append(f"delivery_rate must be > 0 (math.inf for no pacing), got {self.delivery_rate!r}")
        if self.chunk_bytes is not None and (not isinstance(self.chunk_bytes, int) or self.chunk_bytes < 1):
            problems.append(f"chunk_bytes must be a whole number >= 1 or None, got {self.chunk_bytes!r}")
        if self.vad_start_frames < 1 or self.vad_silence_ms < 20:
            problems.append("vad_start_frames must be >= 1 and vad_silence_ms >= 20")
        if problems:
            raise ValueError("RealtimeScript: " + "; ".join(problems))

    def duration_for(self, reason: str, first: bool) -> tuple[float, str]:
        """Seconds and transcript of a response started for ``reason`` (``client``, ``vad``, ``scripted``)."""
        if reason == "vad":
            return self.auto_response_duration_s, self.auto_response_transcript
        if first:
            return self.greeting_duration_s, self.greeting_transcript
        return self.response_duration_s, self.response_transcript
