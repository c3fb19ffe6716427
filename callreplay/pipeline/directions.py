"""``tasks_recording.py: normalize_call_direction`` (spec §2.4), shared by the webhooks and the policies."""

from __future__ import annotations


def normalize_call_direction(value: str | None) -> str:
    """``inbound``/``outbound`` by prefix, case-insensitively; anything else (or nothing) is ``unknown``."""
    if not value:
        return "unknown"
    lowered = value.lower()
    if lowered.startswith("outbound"):
        return "outbound"
    if lowered.startswith("inbound"):
        return "inbound"
    return "unknown"
