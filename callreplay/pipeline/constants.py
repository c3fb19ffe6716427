"""The modelled system's constants and templates, in one place (spec §4, §7.6, §8).

The model, the fingerprints and the report import these instead of keeping copies, so a change to
the system under test is one edit here.
"""

from __future__ import annotations

# -- audio (§8) -----------------------------------------------------------------------------------
FRAME_US = 20_000                 # one Twilio media frame: 20 ms of mu-law at 8 kHz
FRAME_BYTES = 160                 # its payload size

# -- the wire (§7.6) --------------------------------------------------------------------------------
FULL_PROMPT_MAX_CHARS = 8000      # the session.update instructions cap

# -- prompts (§4) -----------------------------------------------------------------------------------
# the settings field that holds each direction's prompt, and its inverse
FIELD_OF_DIRECTION: dict[str, str] = {"inbound": "ai_prompt", "outbound": "outbound_ai_prompt"}
DIRECTION_OF_FIELD: dict[str, str] = {field: direction for direction, field in FIELD_OF_DIRECTION.items()}
# the placeholders every builder substitutes with the business's name
NAME_PLACEHOLDERS: tuple[str, ...] = ("{{business_name}}", "{{BUSINESS_NAME}}")


def replace_placeholders(text: str, business_name: str) -> str:
    """Substitute the business name for every placeholder (the builders' ``replace`` chain)."""
    for placeholder in NAME_PLACEHOLDERS:
        text = text.replace(placeholder, business_name)
    return text

# the time zone a business's settings row has when nothing names one (the scenario passes its own)
DEFAULT_TIMEZONE = "UTC"
