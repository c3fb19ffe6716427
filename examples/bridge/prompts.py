"""Instructions for a call: the business's prompt for the call's direction, framed for a phone call."""

from __future__ import annotations

import json
import logging
from typing import Any

from examples.bridge.config import Business, Settings

INBOUND, OUTBOUND = "inbound", "outbound"
PROMPT_FIELDS = {INBOUND: "ai_prompt", OUTBOUND: "outbound_ai_prompt"}
DIRECTION_SENTENCES = {
    INBOUND: "The caller phoned the business.",
    OUTBOUND: "You are calling the customer on behalf of the business.",
}
GENERIC_PROMPT = ("Help the caller politely and briefly on behalf of {name}. If you cannot help, offer to take a "
                  "message with their name and number.")
TRUNCATED_LENGTH = 1000
log = logging.getLogger("examples.bridge")


def prompt_text(raw: Any, business_name: str) -> str:
    """The calls text of a prompt setting: plain text, or ``calls`` of ``{"calls": ..., "whatsapp": ...}``.

    The JSON form may arrive as an object or as a JSON string; the WhatsApp text is never used for calls.
    """
    value: Any = raw
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # plain text that happens to start with a brace
    if isinstance(value, dict):
        value = value.get("calls")
    text = value.strip() if isinstance(value, str) else ""
    return text.replace("{{business_name}}", business_name)


def greeting_text(business: Business) -> str:
    """The first sentence the model says; the business's greeting or a neutral one naming it."""
    greeting = business.greeting.replace("{{business_name}}", business.name).strip()
    return greeting or f"Hello, you have reached {business.name}. How can I help you?"


def build_instructions(business: Business, direction: str, settings: Settings) -> str:
    """The session instructions for ``business`` on a call in ``direction``.

    An empty prompt for the direction gives a neutral instruction naming the business, never the other
    direction's script (unless the ``cross-direction-fallback`` switch is on).
    """
    own = OUTBOUND if direction == OUTBOUND else INBOUND
    other = INBOUND if own == OUTBOUND else OUTBOUND
    body = prompt_text(business.settings.get(PROMPT_FIELDS[own]), business.name)
    if not body and settings.bug("cross-direction-fallback"):
        # BUG SWITCH cross-direction-fallback: the 2026-01-08 incident, the other direction's script is borrowed.
        body = prompt_text(business.settings.get(PROMPT_FIELDS[other]), business.name)
        if body:  # the incident's own log line (shared/pipeline-spec.md's tag), which callreplay reads live
            log.warning("[PROMPT FALLBACK] Using %s prompt as fallback for %s business_id=%s", other, own, business.id)
    if not body:
        body = GENERIC_PROMPT.format(name=business.name)
    sentence = DIRECTION_SENTENCES.get(direction, "")
    instructions = f"You are the voice assistant of {business.name} on a phone call. {sentence}\n\n{body}"
    if settings.bug("greeting-only"):
        # BUG SWITCH greeting-only: the greeting sentence is bound as the whole instructions.
        instructions = greeting_text(business)
    if settings.bug("truncate-instructions"):
        # BUG SWITCH truncate-instructions: a "safety" cap that cuts the business prompt's tail.
        instructions = instructions[:TRUNCATED_LENGTH]
    return instructions
