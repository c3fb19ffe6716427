"""The OpenAI session object of each interface: its defaults, partial updates, and the fields detectors read.

Beta and GA carry the same settings in different places (sheet 1.3); ``semantic_fields`` maps both to
one flat set of names (the beta ones) so a trace reads the same whichever interface the target spoke.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from .catalogue import GA_TYPE_TO_FORMAT, OPENAI_AUDIO_FORMATS, AudioFormat

DEFAULT_INSTRUCTIONS = ("Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Act like a "
                        "human, but remember that you aren't a human and that you can't do human things in the "
                        "real world.")
SESSION_SECONDS = 60 * 60
TOOLS_RECORDED = 64      # a session.update's tools the trace keeps, in order
TOOL_TEXT_MAX = 2_000    # of each tool's description and parameters


def _turn_detection() -> dict:
    return {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200,
            "idle_timeout_ms": None, "create_response": True, "interrupt_response": True}


def default_session(interface: str, model: str, session_id: str) -> dict:
    """The session ``session.created`` carries (sheet 1.1), shaped for ``beta`` or ``ga``."""
    expires = int(time.time()) + SESSION_SECONDS
    if interface == "beta":
        return {"id": session_id, "object": "realtime.session", "model": model, "expires_at": expires,
                "modalities": ["audio", "text"], "instructions": DEFAULT_INSTRUCTIONS, "voice": "alloy",
                "turn_detection": _turn_detection(), "input_audio_format": "pcm16", "output_audio_format": "pcm16",
                "input_audio_transcription": None, "input_audio_noise_reduction": None, "tools": [],
                "tool_choice": "auto", "temperature": 0.8, "max_response_output_tokens": "inf", "speed": 1.0,
                "tracing": None, "prompt": None, "include": None}
    return {"type": "realtime", "object": "realtime.session", "id": session_id, "model": model,
            "output_modalities": ["audio"], "instructions": DEFAULT_INSTRUCTIONS, "tools": [], "tool_choice": "auto",
            "max_output_tokens": "inf", "tracing": None, "prompt": None, "expires_at": expires, "include": None,
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, "transcription": None,
                                "noise_reduction": None, "turn_detection": _turn_detection()},
                      "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1}}}


_NESTED = {("audio",), ("audio", "input"), ("audio", "output")}


def merge(current: dict, update: dict, path: tuple[str, ...] = ()) -> dict:
    """A new session with the update's present fields applied (GA's ``audio`` objects merge field by field)."""
    out = copy.deepcopy(current)
    for key, value in update.items():
        here = (*path, key)
        if here in _NESTED and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, here)
        else:
            out[key] = copy.deepcopy(value)
    return out


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` or None when any level is missing or not an object."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def input_format(session: dict, interface: str) -> AudioFormat:
    if interface == "beta":
        return OPENAI_AUDIO_FORMATS.get(session.get("input_audio_format", "pcm16"), OPENAI_AUDIO_FORMATS["pcm16"])
    kind = dig(session, "audio", "input", "format", "type") or "audio/pcm"
    return GA_TYPE_TO_FORMAT.get(kind, OPENAI_AUDIO_FORMATS["pcm16"])


def output_format(session: dict, interface: str) -> AudioFormat:
    if interface == "beta":
        return OPENAI_AUDIO_FORMATS.get(session.get("output_audio_format", "pcm16"), OPENAI_AUDIO_FORMATS["pcm16"])
    kind = dig(session, "audio", "output", "format", "type") or "audio/pcm"
    return GA_TYPE_TO_FORMAT.get(kind, OPENAI_AUDIO_FORMATS["pcm16"])


def turn_detection(session: dict, interface: str) -> dict | None:
    if interface == "beta":
        return session.get("turn_detection")
    return dig(session, "audio", "input", "turn_detection")


def voice(session: dict, interface: str) -> Any:
    return session.get("voice") if interface == "beta" else dig(session, "audio", "output", "voice")


def audio_out_enabled(session: dict, interface: str) -> bool:
    if interface == "beta":
        return "audio" in (session.get("modalities") or [])
    return "audio" in (session.get("output_modalities") or [])


def semantic_fields(update: dict, interface: str) -> dict:
    """The fields ``realtime.session_update`` records, under beta names, from a beta or GA ``session``."""
    if not isinstance(update, dict):
        return {}
    if interface == "beta":
        fields = {name: update.get(name) for name in ("instructions", "voice", "input_audio_format",
                                                        "output_audio_format", "turn_detection", "temperature",
                                                        "modalities")}
        fields["noise_reduction"] = update.get("input_audio_noise_reduction")
    else:
        in_fmt = dig(update, "audio", "input", "format", "type")
        out_fmt = dig(update, "audio", "output", "format", "type")
        fields = {"instructions": update.get("instructions"), "voice": dig(update, "audio", "output", "voice"),
                  "input_audio_format": GA_TYPE_TO_FORMAT[in_fmt].name if in_fmt in GA_TYPE_TO_FORMAT else in_fmt,
                  "output_audio_format": GA_TYPE_TO_FORMAT[out_fmt].name if out_fmt in GA_TYPE_TO_FORMAT else out_fmt,
                  "turn_detection": dig(update, "audio", "input", "turn_detection"),
                  "temperature": update.get("temperature"), "modalities": update.get("output_modalities"),
                  "noise_reduction": dig(update, "audio", "input", "noise_reduction")}
    tools = update.get("tools")
    fields["tools"] = len(tools) if isinstance(tools, list) else None
    fields["tool_specs"] = tool_specs(tools)
    return fields


def tool_specs(tools: object) -> list[dict] | None:
    """Each function tool as ``{name, text}`` (its description and parameters as one text), bounded: the
    count alone cannot show tools that belong to another business (tenant-contamination reads these).
    Gemini groups functions under ``functionDeclarations``; None when the update carried no tools list."""
    if not isinstance(tools, list):
        return None
    specs: list[dict] = []
    for tool in tools:
        grouped = tool.get("functionDeclarations") if isinstance(tool, dict) else None
        for decl in grouped if isinstance(grouped, list) else [tool]:
            if isinstance(decl, dict) and len(specs) < TOOLS_RECORDED:
                text = f"{decl.get('description') or ''} {json.dumps(decl.get('parameters'), ensure_ascii=False)}"
                specs.append({"name": str(decl.get("name") or ""), "text": text[:TOOL_TEXT_MAX]})
    return specs
