"""Deliberately broken profiles for the mutation check: each must be caught by some detector.

Each mutant changes one policy the way a plausible code change could break it; ``tests/test_mutants.py``
replays the shipped scenarios under every mutant and requires findings its base profile
(``based_on``) lacks. Each mutant policy overrides the one method it breaks of the policy it
mutates; ``examples/profiles.py`` shows a policy written from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...durations import US_PER_S
from ..policies import CrossDirectionFallback, DirectionKeyedCache, SenderFromStart, WithMetadata
from ..policies.builder_a import direction_field
from .builtin import FIXED, HARDENED, LEGACY
from .profile import Profile

_ORIGIN = "callreplay.pipeline.mutants."


@dataclass(frozen=True, slots=True)
class BusinessOnlyKey(DirectionKeyedCache):
    """Keys the prompt cache by business only (the direction is dropped)."""

    def key(self, business_id: int | None, direction: str) -> str:
        return f"{business_id}"


@dataclass(frozen=True, slots=True)
class WholeSecondExpiry(DirectionKeyedCache):
    """Compares whole seconds, so an entry is served up to 1 s past the TTL."""

    def expired(self, age_us: int, ttl_us: int) -> bool:
        return age_us // US_PER_S > ttl_us // US_PER_S


@dataclass(frozen=True, slots=True)
class NeverExpires(DirectionKeyedCache):
    """Entries never expire."""

    def expired(self, age_us: int, ttl_us: int) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class OtherDirectionFirst(CrossDirectionFallback):
    """Builder A reads the other direction's field first."""

    def primary_field(self, direction: str) -> str:
        return direction_field("inbound" if direction == "outbound" else "outbound")


@dataclass(frozen=True, slots=True)
class TruncatedCallKey(WithMetadata):
    """Parks the prompt under the first 8 characters of the CallSid."""

    def key_sid(self, call_sid: str) -> str:
        return call_sid[:8]


def _mutant(base: Profile, name: str, cls: str, summary: str, **changes: object) -> Profile:
    return base.with_(name=name, summary=summary, origin=_ORIGIN + cls, **changes)


MUTANTS: tuple[Profile, ...] = (
    _mutant(FIXED, "mutant-cache-key-no-direction", "CacheKeyWithoutDirection", "prompt cache keyed by business only",
            cache=BusinessOnlyKey()),
    _mutant(FIXED, "mutant-cache-expiry-off-by-one", "CacheExpiryOffByOne",
            "cache expiry compares whole seconds, serving entries up to 1 s past the TTL", cache=WholeSecondExpiry()),
    _mutant(FIXED, "mutant-cache-expiry-disabled", "CacheExpiryDisabled", "cache entries never expire",
            cache=NeverExpires()),
    _mutant(HARDENED, "mutant-registry-never-cleared", "RegistryNeverCleared",
            "the stream registry entry is never removed",
            clear_registry_in_finally=False, clear_registry_on_close=False, registry_entry_ttl_us=None),
    _mutant(FIXED, "mutant-direction-lock-removed", "DirectionLockRemoved",
            "a second start event may change the call's direction", direction_lock=False),
    _mutant(FIXED, "mutant-default-direction-flipped", "DefaultDirectionFlipped",
            "a start without a direction parameter defaults to outbound", default_direction="outbound"),
    _mutant(LEGACY, "mutant-fallback-order-reversed", "FallbackOrderReversed",
            "builder A reads the other direction's field first and falls back to its own",
            prompt_source=OtherDirectionFirst(strip_json=True)),
    _mutant(FIXED, "mutant-prebuild-wrong-call", "PrebuildWrongCall",
            "the webhook pre-build parks the prompt under a truncated CallSid", prebuild_store=TruncatedCallKey()),
    _mutant(HARDENED, "mutant-sender-ignores-session", "SenderIgnoresSession",
            "the audio sender forwards caller audio before session.updated", sender=SenderFromStart()),
)
