"""Whether the realtime thread waits for a pre-build still running when it reads the registry (hardened)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ._choice import check_type, label


@runtime_checkable
class PrebuildWait(Protocol):
    """How long to wait (0: not at all) given whether a pre-build is pending and a prompt is parked."""

    def wait_us(self, *, pending: bool, parked: bool) -> int: ...


@dataclass(frozen=True, slots=True)
class NoWait:
    """BUGGY/FIX: read the registry once, whatever is running."""

    def wait_us(self, *, pending: bool, parked: bool) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class WaitForPrebuild:
    """Hardened: a pending pre-build with nothing parked yet is waited for, up to ``timeout_us``."""

    timeout_us: int

    def __post_init__(self) -> None:
        check_type(label(self, "timeout_us"), self.timeout_us, int, "a number of microseconds")

    def wait_us(self, *, pending: bool, parked: bool) -> int:
        return self.timeout_us if pending and not parked else 0
