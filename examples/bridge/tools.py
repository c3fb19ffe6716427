"""The realtime tools of a call: appointment booking, offered only to a business that books appointments.

A business books appointments when its settings say ``call_goal: appointment`` and do not turn
``enable_calendar_scheduling`` off; the tools' descriptions name it, so the model books with that business.
"""

from __future__ import annotations

from typing import Any

from examples.bridge.config import Business, Settings

SLOT = {"type": "string", "description": "the start of the slot, ISO 8601 with the business's offset"}


def books_appointments(business: Business) -> bool:
    settings = business.settings
    return settings.get("call_goal") == "appointment" and settings.get("enable_calendar_scheduling") is not False


def _function(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "name": name, "description": description,
            "parameters": {"type": "object", "properties": properties, "required": sorted(properties)}}


def call_tools(business: Business, settings: Settings) -> list[dict[str, Any]]:
    """The tools for a call to ``business`` (none when it books no appointments)."""
    if settings.bug("foreign-tools") and settings.businesses:
        # BUG SWITCH foreign-tools: the tools are built from the first business of the file, not the dialled one.
        business = settings.businesses[0]
    if not books_appointments(business):
        return []
    return [
        _function("check_availability", f"Find free appointment slots at {business.name} for a given day.",
                  {"day": {"type": "string", "description": "the day, YYYY-MM-DD"}}),
        _function("schedule_appointment", f"Book an appointment at {business.name} once the caller agreed to a slot.",
                  {"start": SLOT, "customer_name": {"type": "string", "description": "the caller's name"}}),
    ]
