"""The fixed texts of the prompt builders (spec §4.1): system rules, templates, layouts.

Constants are the spec's exact strings; they are data, kept apart from the builders that use them.
"""

from __future__ import annotations

import json

from . import constants

UNIVERSAL_SYSTEM_RULES = (
    "You are a real-time voice assistant for ProSaaS business calls.\n"
    "\n"
    "Default output language: Hebrew.\n"
    "If the caller clearly speaks another language, continue in that language.\n"
    "If unclear, ask once: \"נוח לך בעברית או באנגלית?\"\n"
    "\n"
    "Tone: short, calm, professional, human.\n"
    "Do not invent facts. If needed, ask one short clarification question.\n"
    "\n"
    "The business prompt is the primary source for what to say and when to end the call.\n"
    "Do not end the call unless the business prompt explicitly instructs it.\n"
    "\n"
    "If audio is cut, unclear, or interrupted, continue naturally by briefly repeating the last question."
)
DIRECTION_SENTENCES = {"outbound": "\n\nYou initiated this call.", "inbound": "\n\nCaller contacted the business."}

FALLBACK_INBOUND_PROMPT_TEMPLATE = (
    "You are a professional service representative for {business_name}. Be helpful and collect customer information.")
FALLBACK_OUTBOUND_PROMPT_TEMPLATE = (
    "You are a professional outbound representative for {business_name}. Be brief, polite, and helpful.")
DEFAULT_HEBREW_NAME = "העסק שלנו"
WS_MINIMAL_SENTENCE = "שלום, הגעתם ל{biz}. איך אפשר לעזור? תגיד לי במה אוכל לעזור לך."
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def universal_rules(call_direction: str) -> str:
    return UNIVERSAL_SYSTEM_RULES + DIRECTION_SENTENCES.get((call_direction or "").strip().lower(), "")


def default_hebrew_prompt(name: str = DEFAULT_HEBREW_NAME) -> str:
    """``prompt_helpers.get_default_hebrew_prompt_for_calls``."""
    return f"You are a voice assistant for {name}.\nDefault language: Hebrew.\nRespond naturally and briefly."


replace_placeholders = constants.replace_placeholders


def _from_json(candidate: str, raw_for_default: str) -> str:
    """``obj.get("calls") or obj.get("whatsapp") or raw``; a non-dict JSON value, or a non-string
    ``calls``/``whatsapp``, raises like the real code (§13.1 item 3: the ``.replace`` that follows fails)."""
    obj = json.loads(candidate)
    if not isinstance(obj, dict):
        raise AttributeError(f"'{type(obj).__name__}' object has no attribute 'get'")
    value = obj.get("calls") or obj.get("whatsapp") or raw_for_default
    if not isinstance(value, str):
        raise AttributeError(f"'{type(value).__name__}' object has no attribute 'replace'")
    return value


def extract_business_prompt_text_legacy(business_name: str, raw: str | None) -> str:
    """BUGGY ``_extract_business_prompt_text``: strip, parse a leading ``{`` as JSON, substitute the name."""
    if not raw or not raw.strip():
        return ""
    stripped = raw.strip()
    text = stripped
    if stripped.startswith("{"):
        try:
            text = _from_json(stripped, stripped)
        except json.JSONDecodeError:
            text = stripped
    return replace_placeholders(text, business_name)


def extract_business_prompt_text_fix(business_name: str, raw: str | None) -> str:
    """FIX ``_extract_business_prompt_text`` (§10 item 3): no strip, so leading whitespace defeats JSON."""
    if not raw:
        return ""
    text = raw
    if raw.startswith("{"):
        try:
            text = _from_json(raw, raw)
        except json.JSONDecodeError:
            text = raw
    return replace_placeholders(text, business_name) if business_name else text


def extract_for_builder_c(business_name: str, raw: str | None) -> str:
    """Builder C: the ``{`` test runs on the stripped value, JSON is parsed from the unstripped one."""
    if not raw or not raw.strip():
        return ""
    text = raw
    if raw.strip().startswith("{"):
        try:
            text = _from_json(raw, raw)
        except json.JSONDecodeError:
            text = raw
    return replace_placeholders(text, business_name)


def appointment_block(now_local, slot_size_min: int, *, with_tools: bool) -> str:
    """The APPOINTMENT SCHEDULING layer; its date comes from the (frozen) wall clock, as in the real code."""
    day = WEEKDAYS[now_local.weekday()]
    block = (f"\n\nAPPOINTMENT SCHEDULING (STRICT, technical): Today is {day} {now_local:%d/%m/%Y}. "
             f"Slot size: {slot_size_min}min. Collect the customer's full name, the full date with weekday and the "
             "time; ask for one missing detail at a time and restate relative dates as full dates.")
    if with_tools:
        block += (" Use check_availability before offering a time and schedule_appointment only after the customer "
                  "confirms; if the slot is taken, propose up to 2 alternative times.")
    return block


def builder_a_layout(rules: str, appointment: str, business_id: int, name: str, label: str, text: str,
                     call_direction: str) -> str:
    sentence = "The customer called the business." if call_direction == "inbound" else "You are calling the customer."
    return (f"{rules}{appointment}\n\nBUSINESS PROMPT (Business ID: {business_id}, Name: {name}, Call: {label}):\n"
            f"{text}\n\nCALL TYPE: {label}. {sentence} Follow the business prompt for flow.")


def builder_c_layout(rules: str, appointment: str, business_id: int, body: str) -> str:
    return (f"{rules}{appointment}\n\nBUSINESS PROMPT (Business ID: {business_id}):\n{body}\n\n"
            "CALL TYPE: INBOUND. The customer called the business. Follow the business prompt for greeting and flow.")


def builder_d_layout(rules: str, business_id: int, body: str, name: str) -> str:
    return (f"{rules}\n\nBUSINESS PROMPT (Business ID: {business_id}):\n{body}\n\n"
            f"CALL TYPE: OUTBOUND from \"{name}\". If confused, briefly identify the business and continue per the "
            "outbound prompt.")
