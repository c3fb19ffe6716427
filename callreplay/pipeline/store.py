"""The database rows the pipeline reads (spec §2): Business, BusinessSettings, CallLog, Lead.

Settings carry a version that increments on every change, so a prompt's provenance can say which
version of the configuration it was built from, and a detector can tell when it went stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .constants import DEFAULT_TIMEZONE

SETTINGS_DEFAULTS: dict[str, Any] = {
    "ai_prompt": None, "outbound_ai_prompt": None, "call_goal": "lead_only", "enable_calendar_scheduling": True,
    "auto_end_after_lead_capture": False, "auto_end_on_goodbye": True, "smart_hangup_enabled": True,
    "silence_timeout_sec": 15, "silence_max_warnings": 2, "confirm_before_hangup": True,
    "timezone": None, "slot_size_min": 60,
}
# ``timezone`` above: the spec's deployment default is Asia/Jerusalem; here a settings row without one
# takes the scenario's ``clock.timezone`` (UTC unless the scenario says otherwise), see ``BusinessStore``.

# a scenario's name for a Business column (what a ``change`` step writes) -> the column
_BUSINESS_COLUMNS: dict[str, str] = {"name": "name", "phone": "phone_e164", "active": "is_active",
                                     "greeting": "greeting_message", "system_prompt": "system_prompt",
                                     "voice": "voice_id"}
REALTIME_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")


class BusinessRow(Protocol):
    """The configuration of one business as the engine hands it to the model (a scenario's business fits)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def channels(self) -> tuple[str, ...]: ...
    @property
    def active(self) -> bool: ...
    @property
    def greeting(self) -> str | None: ...
    @property
    def system_prompt(self) -> str | None: ...
    @property
    def voice(self) -> str | None: ...
    @property
    def settings(self) -> Mapping[str, Any] | None: ...


@dataclass
class Business:
    id: int
    name: str | None
    phone_e164: str | None
    channels: tuple[str, ...]
    is_active: bool
    greeting_message: str | None
    system_prompt: str | None
    voice_id: str = "ash"


@dataclass
class BusinessSettings:
    tenant_id: int
    values: dict[str, Any]
    version: int = 1

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)


@dataclass
class CallLog:
    call_sid: str
    business_id: int | None
    from_number: str
    to_number: str
    direction: str
    twilio_direction: str | None
    status: str = "initiated"
    call_status: str = "initiated"
    parent_call_sid: str | None = None
    customer_id: int | None = None
    lead_id: int | None = None
    recording_sid: str | None = None
    recording_mode: str | None = None
    recording_count: int = 0


def strip_phone(number: str) -> str:
    return number.replace(" ", "").replace("-", "")


@dataclass
class BusinessStore:
    """In-memory stand-in for the tables; the order of ``businesses`` is the DB order (§12 point 2)."""

    businesses: list[Business] = field(default_factory=list)
    settings: dict[int, BusinessSettings] = field(default_factory=dict)
    call_logs: dict[str, CallLog] = field(default_factory=dict)
    leads: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    timezone: str = DEFAULT_TIMEZONE   # what a settings row holds when the scenario gives it no ``timezone``

    @classmethod
    def from_specs(cls, specs: Iterable[BusinessRow], timezone: str = DEFAULT_TIMEZONE) -> BusinessStore:
        store = cls(timezone=timezone)
        for spec in specs:
            store.businesses.append(Business(spec.id, spec.name, spec.phone, spec.channels, spec.active,
                                             spec.greeting, spec.system_prompt, spec.voice or "ash"))
            if spec.settings is not None:
                store.settings[spec.id] = BusinessSettings(spec.id, {**store.settings_defaults(), **spec.settings})
        return store

    def settings_defaults(self) -> dict[str, Any]:
        return {**SETTINGS_DEFAULTS, "timezone": self.timezone}

    def get(self, business_id: int | None) -> Business | None:
        for b in self.businesses:
            if b.id == business_id:
                return b
        return None

    def settings_for(self, business_id: int | None) -> BusinessSettings | None:
        return self.settings.get(business_id) if business_id is not None else None

    def settings_version(self, business_id: int | None) -> int:
        row = self.settings_for(business_id)
        return row.version if row else 0

    def match_phone(self, to: str) -> Business | None:
        """Webhook and WS phone match: ``phone_e164 == To`` or ``== To`` stripped; active flag not checked."""
        stripped = strip_phone(to)
        for b in self.businesses:
            if b.phone_e164 and (b.phone_e164 == to or b.phone_e164 == stripped):
                return b
        return None

    def first_active(self) -> Business | None:
        return next((b for b in self.businesses if b.is_active), None)

    def resolve_with_fallback(self, to: str) -> Business | None:
        """``business_resolver``: contact channels, then the normalised phone among active businesses; no first-active."""
        norm = strip_phone(to)
        for b in self.businesses:
            if any(strip_phone(c) == norm for c in b.channels):
                return b
        for b in self.businesses:
            if b.is_active and b.phone_e164 and strip_phone(b.phone_e164) == norm:
                return b
        return None

    def change(self, business_id: int, changes: dict[str, Any]) -> int:
        """Apply a settings/business change; return the new settings version."""
        business = self.get(business_id)
        row = self.settings.setdefault(business_id, BusinessSettings(business_id, self.settings_defaults(), 0))
        for key, value in changes.items():
            if key in SETTINGS_DEFAULTS:
                row.values[key] = value
                continue
            if business is None:  # the loader checks step business ids; this is a programming error
                raise KeyError(f"no business {business_id} for the change of {key!r}")
            if key in _BUSINESS_COLUMNS:
                setattr(business, _BUSINESS_COLUMNS[key], value)
        row.version += 1
        return row.version

