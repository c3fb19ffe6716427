"""The :class:`Profile` value: which behaviour of the spec a replay models, one policy per decision point.

A profile is frozen; a new one is made from an existing one with :meth:`Profile.with_`, naming the
policies (or the switches of :data:`SWITCHES`) that differ. Every policy is checked against its
interface when the profile is made, and every switch value against its valid choices, so a typo is
a :class:`~callreplay.errors.ProfileError` naming the profile, the place it was written and the valid
values, never a silently different model.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import ProfileError
from ..policies import (
    CachePolicy,
    DirectionPolicy,
    PrebuildStore,
    PrebuildWait,
    PromptCheck,
    PromptSource,
    RegistryLifecycle,
    SenderStart,
    SettingsChange,
    SystemBuilders,
)
from .switches import SWITCHES

# the interface each policy field must satisfy (checked by attribute, like the detector door)
SEAMS: dict[str, type] = {
    "prompt_source": PromptSource, "builders": SystemBuilders, "prebuild_store": PrebuildStore,
    "direction": DirectionPolicy, "prompt_check": PromptCheck, "prebuild_wait": PrebuildWait, "cache": CachePolicy,
    "lifecycle": RegistryLifecycle, "settings_change": SettingsChange, "sender": SenderStart,
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A name, a one-line summary, and the policy the model asks at each decision point."""

    name: str
    summary: str
    prompt_source: PromptSource
    builders: SystemBuilders
    prebuild_store: PrebuildStore
    direction: DirectionPolicy
    prompt_check: PromptCheck
    prebuild_wait: PrebuildWait
    cache: CachePolicy
    lifecycle: RegistryLifecycle
    settings_change: SettingsChange
    sender: SenderStart
    # the dotted name results and traces carry for this profile (stable across refactors); "" = derived
    origin: str = ""
    based_on: str | None = None      # the profile this one was derived from with with_()

    def __post_init__(self) -> None:
        problems = [f"{seam}: {why}" for seam, why in _seam_problems(self)]
        if not isinstance(self.name, str) or not self.name:
            problems.insert(0, f"name: {self.name!r} is not a non-empty string")
        if not isinstance(self.summary, str):
            problems.insert(0, f"summary: {self.summary!r} is not a string")
        if problems:
            raise ProfileError(f"profile {self.name!r} is not valid: " + "; ".join(problems))

    def with_(self, **changes: Any) -> Profile:
        """A new profile: this one with the named policies, switches, ``name`` or ``summary`` replaced.

        A new name records this profile as ``based_on``. Errors name the caller's file and line.
        """
        where = _caller()
        try:
            return _derive(self, changes)
        except ProfileError as exc:
            raise ProfileError(f"{where}: {exc}") from None

    def describe(self) -> dict[str, Any]:
        """What results and reports show of the profile."""
        return {"name": self.name, "summary": self.summary, "class": self.origin or self.name}

    @property
    def class_name(self) -> str:
        """The last part of :attr:`origin` (the trace's ``replay.start.profile_class``)."""
        return (self.origin or "Profile").rsplit(".", 1)[-1].rsplit(":", 1)[-1]

    def policies(self) -> dict[str, object]:
        """Seam -> policy, in the order of the fields."""
        return {seam: getattr(self, seam) for seam in SEAMS}


def _seam_problems(profile: Profile) -> list[tuple[str, str]]:
    out = []
    for seam, interface in SEAMS.items():
        policy = getattr(profile, seam)
        missing = [m for m in _members(interface) if not hasattr(policy, m)]
        if missing:
            out.append((seam, f"{type(policy).__name__} does not implement {interface.__name__} "
                              f"(missing: {', '.join(missing)})"))
    return out


def _members(interface: type) -> list[str]:
    names = set(getattr(interface, "__annotations__", {}))
    names |= {n for n, v in vars(interface).items()
              if (callable(v) or isinstance(v, property)) and not n.startswith("_")}
    return sorted(names)


def _derive(base: Profile, changes: dict[str, Any]) -> Profile:
    fields = {f.name for f in dataclasses.fields(Profile)}
    direct = {k: v for k, v in changes.items() if k in fields}
    switched = {k: v for k, v in changes.items() if k not in fields}
    unknown = sorted(k for k in switched if k not in SWITCHES)
    if unknown:
        raise ProfileError(f"unknown profile field {', '.join(map(repr, unknown))}; valid: policies "
                           f"{', '.join(SEAMS)}, name, summary, or switches {', '.join(SWITCHES)}")
    profile = base
    for name, value in switched.items():
        profile = SWITCHES[name](profile, value)
    if "name" in direct and direct["name"] != base.name:
        direct.setdefault("based_on", base.name)
    direct.setdefault("origin", "")  # a changed profile is no longer the one its base's origin names
    return dataclasses.replace(profile, **direct)


def _caller() -> str:
    """``file:line`` of the code that called :meth:`Profile.with_` (where a typo was written)."""
    frame = sys._getframe(2)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


Switch = Callable[[Profile, Any], Profile]
