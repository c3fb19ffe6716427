"""Every constant of the modelled pipeline that a scenario may override, with its default.

The defaults are the spec's numbers (§5 cache TTL, §8.1 audio constants) and, for latencies the
spec leaves to the environment (§12 point 5), plausible production figures. A scenario overrides
any of them under ``pipeline:``; the override table below is also what the JSON Schema publishes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..audio.config import AudioConfig
from ..durations import US_PER_S, parse_duration


@dataclass(frozen=True)
class PipelineConfig:
    # §5 prompt cache
    prompt_cache_ttl_us: int = 600 * US_PER_S
    # background work of the webhooks (§3.1) and the realtime thread (§7.3); latencies, not spec numbers
    prebuild_latency_us: int = 50_000
    recording_start_latency_us: int = 120_000
    lead_creation_latency_us: int = 80_000
    openai_connect_latency_us: int = 400_000
    session_confirm_latency_us: int = 100_000
    response_latency_us: int = 300_000
    greeting_duration_us: int = 3 * US_PER_S
    auto_response_duration_us: int = 2 * US_PER_S
    realtime_event_latency_us: int = 60_000
    # the realtime side's server VAD (turn_detection server_vad, §7.6), modelled on frame RMS
    server_vad_rms: int = 200
    server_vad_start_frames: int = 3
    server_vad_silence_us: int = 700_000
    # §10 item 8: whether the WS-side rebuild can reach the DB (Flask app context present)
    ws_rebuild_app_context: bool = True
    # §3.1: TWIML host and the optional concurrency limit
    public_host: str = "voice.example.test"
    inbound_call_limit: int | None = None
    # §7 logging note: print() lines appear only when DEBUG == "1" (the default)
    debug_prints: bool = True
    # §12 point 2: DB order of "first active business": the order businesses are listed in the file
    audio: AudioConfig = field(default_factory=AudioConfig)


# name in YAML -> (attribute, kind); kinds: duration, int, float, bool, str, optional_int
_PIPELINE_OVERRIDES = {
    "prompt_cache_ttl": ("prompt_cache_ttl_us", "duration"),
    "prebuild_latency": ("prebuild_latency_us", "duration"),
    "recording_start_latency": ("recording_start_latency_us", "duration"),
    "lead_creation_latency": ("lead_creation_latency_us", "duration"),
    "openai_connect_latency": ("openai_connect_latency_us", "duration"),
    "session_confirm_latency": ("session_confirm_latency_us", "duration"),
    "response_latency": ("response_latency_us", "duration"),
    "greeting_duration": ("greeting_duration_us", "duration"),
    "auto_response_duration": ("auto_response_duration_us", "duration"),
    "realtime_event_latency": ("realtime_event_latency_us", "duration"),
    "server_vad_rms": ("server_vad_rms", "int"),
    "server_vad_start_frames": ("server_vad_start_frames", "int"),
    "server_vad_silence": ("server_vad_silence_us", "duration"),
    "ws_rebuild_app_context": ("ws_rebuild_app_context", "bool"),
    "public_host": ("public_host", "str"),
    "inbound_call_limit": ("inbound_call_limit", "optional_int"),
    "debug_prints": ("debug_prints", "bool"),
}


def _audio_overrides() -> dict[str, tuple[str, str]]:
    table = {}
    for f in dataclasses.fields(AudioConfig):
        kind = {bool: "bool", int: "int", float: "float"}.get(type(f.default), "float")
        name = f.name
        if name.endswith("_sec") or name.endswith("_seconds_per_call"):
            kind = "seconds"
        table[name] = (name, kind)
    return table


AUDIO_OVERRIDES = _audio_overrides()
OVERRIDE_NAMES = sorted([*_PIPELINE_OVERRIDES, *AUDIO_OVERRIDES])


def _coerce(value: object, kind: str):
    if kind == "duration":
        return parse_duration(value)
    if kind == "seconds":
        return parse_duration(value) / US_PER_S
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{value!r} is not true or false")
        return value
    if kind in ("int", "optional_int"):
        if value is None and kind == "optional_int":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def build_config(overrides: dict[str, object], base: PipelineConfig | None = None) -> PipelineConfig:
    """Apply YAML-named overrides; raise KeyError(name) or ValueError(message) for bad ones."""
    base = base or PipelineConfig()
    top: dict[str, object] = {}
    audio: dict[str, object] = {}
    for name, value in overrides.items():
        if name in _PIPELINE_OVERRIDES:
            attr, kind = _PIPELINE_OVERRIDES[name]
            top[attr] = _coerce(value, kind)
        elif name in AUDIO_OVERRIDES:
            attr, kind = AUDIO_OVERRIDES[name]
            coerced = _coerce(value, kind)
            if kind == "int" and isinstance(coerced, int) is False:
                coerced = int(coerced)
            audio[attr] = coerced
        else:
            raise KeyError(name)
    if audio:
        top["audio"] = dataclasses.replace(base.audio, **audio)  # type: ignore[arg-type]  # values checked above
    return dataclasses.replace(base, **top)  # type: ignore[arg-type]
