"""How the realtime thread checks the parked prompt (spec §7.3-7.5 BUGGY, §10 item 5 FIX, hardened).

:meth:`PromptCheck.decide` gets the parked prompt and a reader for the pre-build's metadata (each
read is a traced registry read, so a check reads only what it needs, in its own order) and returns
a verdict: :class:`Checked` when a prompt was parked (bind it, continue with it despite a mismatch,
or rebuild), :class:`Missing` when none was (bind the greeting, rebuild through the cache or
without it, or fail closed). The model writes ``prompt.mismatch_check`` / ``prompt.missing`` from the
verdict and then does exactly what it says.

``on_missing`` values:

* ``ws-greeting-fallback``: bind the greeting sentence (BUGGY, hazard H3);
* ``rebuild-cached``: build through builder B, cache allowed (the fix);
* ``rebuild-uncached``: build through builder B, cache bypassed, builders as configured;
* ``fail``: never improvise: an uncached rebuild with strict builders, and the call ends if they
  have nothing for the direction (hardened).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from ..context import BuiltPrompt
from ._choice import check_choice, label
from .prebuild import prompt_digest

MismatchAction = Literal["continue", "rebuild"]
MissingAction = Literal["ws-greeting-fallback", "rebuild-cached", "rebuild-uncached", "fail"]
MISMATCH_ACTIONS: tuple[str, ...] = get_args(MismatchAction)
MISSING_ACTIONS: tuple[str, ...] = get_args(MissingAction)
Wording = Literal["hard-lock", "fix"]


@dataclass(frozen=True, slots=True)
class ParkedPrompt:
    """What the realtime thread knows when it reads the registry."""

    call_sid: str
    direction: str                   # the direction the call is checked against
    raw_direction: str | None        # the handler's call_direction as set by start
    business_id: int | None
    prompt: BuiltPrompt | None       # ``_prebuilt_full_prompt`` (None or empty: nothing parked)
    read: Callable[[str], Any]       # a traced read of one of the pre-build's registry keys

    @property
    def parked(self) -> bool:
        return self.prompt is not None and bool(self.prompt.text)


@dataclass(frozen=True, slots=True)
class Checked:
    """A prompt was parked: what the check found and what the call does with it."""

    method: str
    expected: str
    detected: str | None
    mismatch: bool
    action: Literal["bind", "continue", "rebuild"]
    reasons: tuple[str, ...] | None = None
    wording: Wording = "fix"         # which code's log lines the model prints


@dataclass(frozen=True, slots=True)
class Missing:
    """Nothing was parked: what the call binds instead."""

    action: MissingAction


PromptVerdict = Checked | Missing


@runtime_checkable
class PromptCheck(Protocol):
    """The realtime thread's decision on the parked prompt."""

    @property
    def name(self) -> str: ...

    def decide(self, facts: ParkedPrompt) -> PromptVerdict: ...


@dataclass(frozen=True, slots=True)
class _Check:
    on_mismatch: MismatchAction = "rebuild"
    on_missing: MissingAction = "rebuild-cached"

    def __post_init__(self) -> None:
        check_choice(label(self, "on_mismatch"), self.on_mismatch, MISMATCH_ACTIONS)
        check_choice(label(self, "on_missing"), self.on_missing, MISSING_ACTIONS)

    def _action(self, mismatch: bool) -> Literal["bind", "continue", "rebuild"]:
        return self.on_mismatch if mismatch else "bind"


@dataclass(frozen=True, slots=True)
class SubstringCheck(_Check):
    """BUGGY's HARD LOCK: ``'outbound' in prompt.lower()`` decides the prompt's direction (hazard H2)."""

    name: str = "substring"
    on_mismatch: MismatchAction = "continue"
    on_missing: MissingAction = "ws-greeting-fallback"

    def decide(self, facts: ParkedPrompt) -> PromptVerdict:
        if facts.prompt is None or not facts.prompt.text:
            return Missing(self.on_missing)
        looks_outbound = "outbound" in facts.prompt.text.lower() or facts.raw_direction == "outbound"
        detected = "outbound" if looks_outbound else "inbound"
        mismatch = detected != facts.direction
        return Checked(self.name, facts.direction, detected, mismatch, self._action(mismatch), wording="hard-lock")


@dataclass(frozen=True, slots=True)
class MetadataCheck(_Check):
    """The fix: compare ``_prebuilt_direction`` with the call's direction."""

    name: str = "metadata"

    def decide(self, facts: ParkedPrompt) -> PromptVerdict:
        stored = facts.read("_prebuilt_direction")
        if not facts.parked:
            return Missing(self.on_missing)
        reasons = self._reasons(facts, stored)
        mismatch = bool(reasons)
        return Checked(self.name, facts.direction, stored, mismatch, self._action(mismatch), tuple(reasons))

    def _reasons(self, facts: ParkedPrompt, stored: Any) -> list[str]:
        return ["direction"] if stored and stored != facts.direction else []


@dataclass(frozen=True, slots=True)
class FullCheck(MetadataCheck):
    """Hardened: direction, business and hash must all match; a prompt without metadata is not trusted."""

    name: str = "full"
    on_missing: MissingAction = "fail"

    def _reasons(self, facts: ParkedPrompt, stored: Any) -> list[str]:
        reasons = MetadataCheck._reasons(self, facts, stored)
        stored_business = facts.read("_prebuilt_business_id")
        stored_hash = facts.read("_prebuilt_prompt_hash")
        assert facts.prompt is not None
        if stored_business is not None and stored_business != facts.business_id:
            reasons.append("business")
        if stored_hash and prompt_digest(facts.prompt.text) != stored_hash:
            reasons.append("hash")
        if not stored:
            reasons.append("no-metadata")
        return reasons
