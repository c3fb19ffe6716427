"""The prompt cache's key and expiry (spec §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class CachePolicy(Protocol):
    """How ``PromptCache`` names an entry and when an entry is too old to serve."""

    def key(self, business_id: int | None, direction: str) -> str: ...

    def expired(self, age_us: int, ttl_us: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class DirectionKeyedCache:
    """The spec: ``"{business_id}:{direction}"``, expired iff age > TTL (strict)."""

    def key(self, business_id: int | None, direction: str) -> str:
        return f"{business_id}:{direction}"

    def expired(self, age_us: int, ttl_us: int) -> bool:
        return age_us > ttl_us
