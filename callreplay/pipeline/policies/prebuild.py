"""The webhook pre-build's store (spec §3.1, §10 item 4): whether and where it parks the prompt.

The pre-build thread asks :meth:`PrebuildStore.decide` and carries the verdict out: :class:`Store`
lists the registry keys to write under which call and whether in one locked write, :class:`DontStore`
says why nothing is parked. The ``prebuild.finished`` event is written from the verdict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..context import BuiltPrompt
from ._choice import check_flags


@dataclass(frozen=True, slots=True)
class PrebuildFacts:
    """What the pre-build thread knows when its prompt is ready."""

    call_sid: str
    direction: str
    business_id: int
    prompt: BuiltPrompt


@dataclass(frozen=True, slots=True)
class Store:
    key_sid: str
    values: Mapping[str, Any]
    atomic: bool = False
    digest: str | None = None    # the ``hash=`` of the log line, when the store records one


@dataclass(frozen=True, slots=True)
class DontStore:
    reason: str                  # e.g. guarded-fallback
    warning: str


StoreVerdict = Store | DontStore


@runtime_checkable
class PrebuildStore(Protocol):
    """Decides what the webhook's pre-build writes to the stream registry."""

    def decide(self, facts: PrebuildFacts) -> StoreVerdict: ...


def prompt_digest(text: str) -> str:
    """The fix's ``_prebuilt_prompt_hash``: the first 16 hex digits of the text's SHA-256."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _Parking:
    guard_fallback: bool = False     # option 2: a prompt that came from a fallback is not parked

    def __post_init__(self) -> None:
        check_flags(self, "guard_fallback")

    def key_sid(self, call_sid: str) -> str:
        """The registry entry the prompt is parked under: the call's own."""
        return call_sid

    def _guard(self, facts: PrebuildFacts) -> DontStore | None:
        fallback = facts.prompt.provenance.fallback
        if self.guard_fallback and fallback:
            return DontStore("guarded-fallback", f"[PROMPT] Pre-built {facts.direction} prompt came from a fallback "
                                                 f"({fallback}) - not storing it")
        return None


@dataclass(frozen=True, slots=True)
class PromptOnly(_Parking):
    """BUGGY: only ``_prebuilt_full_prompt`` is parked."""

    def decide(self, facts: PrebuildFacts) -> StoreVerdict:
        return self._guard(facts) or Store(self.key_sid(facts.call_sid), {"_prebuilt_full_prompt": facts.prompt})


@dataclass(frozen=True, slots=True)
class WithMetadata(_Parking):
    """The fix: the prompt with its direction, business and hash; ``atomic`` (hardened) writes them at once (R2)."""

    atomic: bool = False

    def __post_init__(self) -> None:
        _Parking.__post_init__(self)
        check_flags(self, "atomic")

    def decide(self, facts: PrebuildFacts) -> StoreVerdict:
        guarded = self._guard(facts)
        if guarded is not None:
            return guarded
        digest = prompt_digest(facts.prompt.text)
        return Store(self.key_sid(facts.call_sid), {
            "_prebuilt_full_prompt": facts.prompt, "_prebuilt_direction": facts.direction,
            "_prebuilt_business_id": facts.business_id, "_prebuilt_prompt_hash": digest}, self.atomic, digest)
