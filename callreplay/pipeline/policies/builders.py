"""Builders B/C/D (spec §4.3-4.5): what a blank body becomes, and which results B may cache.

The spec's C and D fall back to a generic template; the hardened builders raise instead, so a
rebuild can never bind an improvised prompt. ``strip_inbound`` is C's pre-strip of ``ai_prompt``
(BUGGY strips, the fix does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from ..context import BuiltPrompt
from ._choice import check_flags

BlankBody = Literal["template", "raise"]


@runtime_checkable
class SystemBuilders(Protocol):
    """The router's choices where BUGGY, FIX and hardened differ."""

    @property
    def strip_inbound(self) -> bool: ...

    def on_blank(self, direction: str) -> BlankBody: ...

    def cacheable(self, prompt: BuiltPrompt) -> bool: ...


@dataclass(frozen=True, slots=True)
class SpecBuilders:
    """``strict``: C/D raise on a blank body; ``cache_generic_fallback``: B may cache a template."""

    strict: bool = False
    strip_inbound: bool = True
    cache_generic_fallback: bool = True

    def __post_init__(self) -> None:
        check_flags(self, "strict", "strip_inbound", "cache_generic_fallback")

    def on_blank(self, direction: str) -> BlankBody:
        return "raise" if self.strict else "template"

    def cacheable(self, prompt: BuiltPrompt) -> bool:
        return bool(prompt.text) and (self.cache_generic_fallback or not prompt.provenance.fallback)
