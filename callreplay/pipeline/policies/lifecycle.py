"""Registry retirement (spec §6, §7.9-7.10) and what a settings change does to cache and live calls (R4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from ._choice import check_flags, check_type, label

Moment = Literal["close_session", "run-finally"]


@runtime_checkable
class RegistryLifecycle(Protocol):
    """When a call's stream-registry entry is removed."""

    def clears_at(self, moment: Moment) -> bool: ...

    def reaper_after_us(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class SpecLifecycle:
    """BUGGY/FIX: cleared in ``run()``'s finally only; hardened also on close, and reaps orphans."""

    clear_in_finally: bool = True
    clear_on_close: bool = False
    entry_ttl_us: int | None = None

    def __post_init__(self) -> None:
        check_flags(self, "clear_in_finally", "clear_on_close")
        if self.entry_ttl_us is not None:
            check_type(label(self, "entry_ttl_us"), self.entry_ttl_us, int, "a positive number of microseconds or None")

    def clears_at(self, moment: Moment) -> bool:
        return self.clear_on_close if moment == "close_session" else self.clear_in_finally

    def reaper_after_us(self) -> int | None:
        return self.entry_ttl_us or None


@runtime_checkable
class SettingsChange(Protocol):
    """What the application does when a business's settings change."""

    @property
    def invalidates_cache(self) -> bool: ...

    @property
    def refreshes_live_calls(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SpecSettingsChange:
    """BUGGY/FIX: nothing (R4); hardened invalidates the cache and re-validates live calls' prompts."""

    invalidates_cache: bool = False
    refreshes_live_calls: bool = False

    def __post_init__(self) -> None:
        check_flags(self, "invalidates_cache", "refreshes_live_calls")
