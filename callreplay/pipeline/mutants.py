"""Deliberately broken profiles for the mutation check: each must be caught by some detector.

Each mutant flips one thing that a plausible code change could break; ``tests/test_mutants.py``
replays the shipped scenarios under every mutant and requires findings its base profile lacks.
"""

from __future__ import annotations

from .profiles import Fixed, Hardened, Profile


class CacheKeyWithoutDirection(Fixed):
    name = "mutant-cache-key-no-direction"
    summary = "prompt cache keyed by business only"

    def cache_key(self, business_id, direction: str) -> str:
        return f"{business_id}"


class CacheExpiryOffByOne(Fixed):
    name = "mutant-cache-expiry-off-by-one"
    summary = "cache expiry compares whole seconds, serving entries up to 1 s past the TTL"

    def cache_entry_expired(self, age_us: int, ttl_us: int) -> bool:
        return age_us // 1_000_000 > ttl_us // 1_000_000


class CacheExpiryDisabled(Fixed):
    name = "mutant-cache-expiry-disabled"
    summary = "cache entries never expire"

    def cache_entry_expired(self, age_us: int, ttl_us: int) -> bool:
        return False


class RegistryNeverCleared(Hardened):
    name = "mutant-registry-never-cleared"
    summary = "the stream registry entry is never removed"
    clear_registry_in_finally = False
    clear_registry_on_close = False
    registry_entry_ttl_us = None


class DirectionLockRemoved(Fixed):
    name = "mutant-direction-lock-removed"
    summary = "a second start event may change the call's direction"
    direction_lock = False


class DefaultDirectionFlipped(Fixed):
    name = "mutant-default-direction-flipped"
    summary = "a start without a direction parameter defaults to outbound"
    default_direction = "outbound"


class FallbackOrderReversed(Profile):
    name = "mutant-fallback-order-reversed"
    summary = "builder A reads the other direction's field first and falls back to its own"
    swap_primary_prompt_field = True


class PrebuildWrongCall(Fixed):
    name = "mutant-prebuild-wrong-call"
    summary = "the webhook pre-build parks the prompt under a truncated CallSid"
    prebuild_key = "truncated"


class SenderIgnoresSession(Hardened):
    name = "mutant-sender-ignores-session"
    summary = "the audio sender forwards caller audio before session.updated"
    sender_waits_for_session = False


MUTANTS: dict[str, type[Profile]] = {m.name: m for m in (
    CacheKeyWithoutDirection, CacheExpiryOffByOne, CacheExpiryDisabled, RegistryNeverCleared, DirectionLockRemoved,
    DefaultDirectionFlipped, FallbackOrderReversed, PrebuildWrongCall, SenderIgnoresSession)}
