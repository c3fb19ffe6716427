"""When the audio sender starts forwarding caller audio (spec §8.3 step 1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

SenderMoment = Literal["realtime-start", "session-updated"]


@runtime_checkable
class SenderStart(Protocol):
    """The moment of the call at which the sender starts."""

    def starts_at(self) -> SenderMoment: ...


@dataclass(frozen=True, slots=True)
class SenderAfterSession:
    """The spec: the sender waits for ``session.updated``."""

    def starts_at(self) -> SenderMoment:
        return "session-updated"


@dataclass(frozen=True, slots=True)
class SenderFromStart:
    """The sender forwards from the moment the realtime thread starts (step 1 skipped)."""

    def starts_at(self) -> SenderMoment:
        return "realtime-start"
