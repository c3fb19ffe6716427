"""The WebSocket's direction (spec §7.2): what ``start`` yields and whether a later start may change it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..directions import normalize_call_direction
from ._choice import check_choice, check_flags, label


@runtime_checkable
class DirectionPolicy(Protocol):
    """Reads the direction from the start event's customParameters and guards it afterwards."""

    def incoming(self, parameters: Mapping[str, str]) -> str: ...

    def may_change(self, current: str, attempted: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class SpecDirection:
    """The spec's ``customParameters.get("direction", default)``, locked once set."""

    default: str = "inbound"
    normalize: bool = False      # hardened (R6): "outbound-api" -> "outbound", unknown -> default
    lock: bool = True

    def __post_init__(self) -> None:
        check_choice(label(self, "default"), self.default, ("inbound", "outbound"))
        check_flags(self, "normalize", "lock")

    def incoming(self, parameters: Mapping[str, str]) -> str:
        value = parameters.get("direction", self.default)
        if self.normalize:
            normal = normalize_call_direction(value)
            return normal if normal != "unknown" else self.default
        return value

    def may_change(self, current: str, attempted: str) -> bool:
        return not self.lock
