"""Settings from the environment and the businesses file (the bridge's "database").

Everything is read and checked once at start-up, so a bad variable or file stops the server with one clear
message naming every problem, instead of failing on the first call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_REALTIME_URL = "wss://api.openai.com/v1/realtime"
DEFAULT_MODEL = "gpt-realtime"
DEFAULT_VOICE = "ash"

# One switch per bug class; the healthy path is the default. Each is used in exactly one clearly marked place.
BUG_SWITCHES: dict[str, str] = {
    "cross-direction-fallback": "an empty prompt for the call's direction borrows the other direction's prompt",
    "wrong-voice": "the session gets another valid voice instead of the business's voice",
    "truncate-instructions": "instructions are capped at 1000 characters",
    "bad-temperature": "session.update carries temperature 0.1, which the service rejects",
    "drop-caller-audio": "caller frames are dropped while the model is silent (an inverted echo gate)",
    "no-session-close": "the realtime socket is never closed after Twilio's stop",
    "unrouted-callback": "Twilio is handed statusCallback/action URLs the app does not serve",
    "premature-hangup": "the call is hung up through the REST API right after the greeting",
    "handler-crash": "the media handler raises after 50 caller frames",
    "raw-direction": "Twilio's raw Direction (outbound-api) is stored as the call's direction",
    "odd-chunks": "model audio is forwarded as it comes, not re-chunked into 160-byte frames",
    "greeting-only": "the greeting sentence is sent as the whole instructions",
    "forward-outbound-track": "media of the outbound track (the bot's own audio) is forwarded to the model",
    "no-echo-gate": "quiet caller audio during playback (the bot's echo) is forwarded and may cut the bot off",
    "lost-final-status": "the final (completed) status callback is ignored, so the call record stays in progress",
    "foreign-tenant": "the call log and the lead are written under the first business of the file, not the dialled one",
    "foreign-tools": "the session's tools are built from the first business of the file, not the dialled one",
}

REQUIRED_ENV = ("PORT", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "OPENAI_API_KEY", "CALLREPLAY_BUSINESSES_FILE")


class ConfigError(Exception):
    """Raised when the environment or the businesses file cannot configure the bridge."""


@dataclass(frozen=True)
class Business:
    """One business row: its numbers, greeting, voice and per-direction prompts (``settings``)."""

    id: int
    name: str
    phone: str | None = None
    channels: tuple[str, ...] = ()
    greeting: str = ""
    voice: str = DEFAULT_VOICE
    settings: Mapping[str, Any] = field(default_factory=dict)

    def answers(self, number: str) -> bool:
        """Whether a call to or from ``number`` belongs to this business (its phone or a channel)."""
        return bool(number) and (number == self.phone or number in self.channels)


@dataclass(frozen=True)
class Settings:
    """The bridge's whole configuration; built by :meth:`from_env` in production and directly in tests."""

    port: int
    twilio_account_sid: str
    twilio_auth_token: str
    openai_api_key: str
    businesses: tuple[Business, ...]
    public_url: str | None = None
    twilio_api_base: str | None = None
    openai_realtime_url: str = DEFAULT_REALTIME_URL + "?model=" + DEFAULT_MODEL
    openai_beta: bool = False
    bugs: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read the environment contract (see ``docs/example-bridge.md``); every problem is named at once."""
        problems = [f"{name} is not set" for name in REQUIRED_ENV if not env.get(name)]
        port = 0
        if env.get("PORT"):
            try:
                port = int(env["PORT"])
            except ValueError:
                problems.append(f"PORT must be a number, got {env['PORT']!r}")
        bugs: frozenset[str] = frozenset()
        try:
            bugs = parse_bugs(env.get("BRIDGE_BUGS", ""))
        except ConfigError as exc:
            problems.append(str(exc))
        if problems:
            raise ConfigError("cannot start the bridge: " + "; ".join(problems))
        return cls(
            port=port,
            twilio_account_sid=env["TWILIO_ACCOUNT_SID"],
            twilio_auth_token=env["TWILIO_AUTH_TOKEN"],
            openai_api_key=env["OPENAI_API_KEY"],
            businesses=load_businesses(Path(env["CALLREPLAY_BUSINESSES_FILE"])),
            public_url=(env.get("PUBLIC_URL") or "").rstrip("/") or None,
            twilio_api_base=env.get("TWILIO_API_BASE") or None,
            openai_realtime_url=realtime_url(env.get("OPENAI_REALTIME_URL") or DEFAULT_REALTIME_URL),
            openai_beta=env.get("OPENAI_BETA") == "1",
            bugs=bugs,
        )

    def bug(self, name: str) -> bool:
        """Whether bug switch ``name`` is on; an unknown name is a programming error here."""
        assert name in BUG_SWITCHES, name
        return name in self.bugs

    def business(self, business_id: int) -> Business | None:
        return next((b for b in self.businesses if b.id == business_id), None)

    def business_for_number(self, number: str) -> Business | None:
        return next((b for b in self.businesses if b.answers(number)), None)


def parse_bugs(text: str) -> frozenset[str]:
    """``BRIDGE_BUGS``: comma-separated switch names; an unknown name is refused with the valid choices."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(names - set(BUG_SWITCHES))
    if unknown:
        raise ConfigError(f"BRIDGE_BUGS: unknown switch {', '.join(map(repr, unknown))}; "
                          f"valid switches: {', '.join(BUG_SWITCHES)}")
    return frozenset(names)


def realtime_url(url: str) -> str:
    """The realtime endpoint with ``model=gpt-realtime`` appended when the URL names no model."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    if not any(key == "model" for key, _ in query):
        query.append(("model", DEFAULT_MODEL))
    return urlunsplit(parts._replace(query=urlencode(query)))


def load_businesses(path: Path) -> tuple[Business, ...]:
    """Read the JSON list of businesses (the shape of a scenario's ``businesses:`` section)."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"CALLREPLAY_BUSINESSES_FILE: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(rows, list):
        raise ConfigError(f"{path}: expected a JSON list of businesses, got {type(rows).__name__}")
    return tuple(_business(path, index, row) for index, row in enumerate(rows))


def _business(path: Path, index: int, row: Any) -> Business:
    where = f"{path}: businesses[{index}]"
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: expected an object, got {type(row).__name__}")
    if not isinstance(row.get("id"), int) or isinstance(row.get("id"), bool):
        raise ConfigError(f"{where}.id: expected an integer, got {row.get('id')!r}")
    settings = row.get("settings") or {}
    if not isinstance(settings, dict):
        raise ConfigError(f"{where}.settings: expected an object, got {type(settings).__name__}")
    channels = row.get("channels") or []
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise ConfigError(f"{where}.channels: expected a list of phone numbers, got {channels!r}")
    for key in ("name", "phone", "greeting", "voice"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise ConfigError(f"{where}.{key}: expected a string, got {row[key]!r}")
    return Business(
        id=row["id"],
        name=row.get("name") or "Business",
        phone=row.get("phone"),
        channels=tuple(channels),
        greeting=row.get("greeting") or "",
        voice=row.get("voice") or DEFAULT_VOICE,
        settings=settings,
    )
