"""``_send_session_config`` (spec §7.6): the ``session.update`` payload and its log lines."""

from __future__ import annotations

import hashlib

from .constants import FULL_PROMPT_MAX_CHARS
from .context import BuiltPrompt
from .sanitize import sanitize_changed_length_log, sanitize_realtime_instructions
from .store import REALTIME_VOICES

TRANSCRIPTION = {"model": "gpt-4o-transcribe", "language": "he",
                 "prompt": "תמלול מדויק בעברית ישראלית. תמלל רק מה שנאמר בפועל."}


def md5_8(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()[:8]


def session_update_payload(prompt: BuiltPrompt, voice: str, config, *,
                           send_reason: str = "initial") -> tuple[dict, list[str]]:
    """The payload and the always-on log lines the real ``_send_session_config`` prints (``send_reason=``: why)."""
    instructions = sanitize_realtime_instructions(prompt.text, FULL_PROMPT_MAX_CHARS)
    logs = []
    changed = sanitize_changed_length_log(prompt.text, instructions, cap=FULL_PROMPT_MAX_CHARS)
    if changed is not None:
        logs.append(changed)
    session = {
        "instructions": instructions,
        "modalities": ["audio", "text"],
        "voice": voice,
        "input_audio_format": "g711_ulaw",
        "output_audio_format": "g711_ulaw",
        "input_audio_transcription": TRANSCRIPTION,
        "turn_detection": {"type": "server_vad", "threshold": 0.90, "prefix_padding_ms": 600,
                           "silence_duration_ms": 700, "create_response": True},
        "temperature": 0.6,
        "max_response_output_tokens": 4096,
        "input_audio_noise_reduction": {"type": "near_field"},
    }
    logs.append(f"[SESSION_SEND] send_reason={send_reason} force=False hash_before={md5_8(prompt.text)} "
                f"hash_after={md5_8(instructions)} len={len(instructions)}")
    logs.append(f"[PAYLOAD_PREVIEW] instructions_len={len(instructions)} last_200_chars=...{instructions[-100:]}")
    return {"type": "session.update", "session": session}, logs


def resolve_voice(voice: str | None) -> tuple[str, bool]:
    """The business voice if it is a Realtime voice, else ``cedar`` (and a VOICE_FALLBACK log)."""
    if voice in REALTIME_VOICES:
        return voice, False
    return "cedar", True
