"""Builder A's source (spec §4.2, §10 items 2-3): which field it reads, how, and what an empty one means.

The builder asks :meth:`PromptSource.on_empty` what to do when the direction's own field is empty and
carries the verdict out: :class:`Borrow` names the field to take instead (its ``fallback`` lands in
the prompt's provenance, which is what ``cross-direction-fallback`` reads), :class:`Refuse` makes it
raise ``MissingPromptError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .. import prompt_text as pt
from ._choice import check_flags


@dataclass(frozen=True, slots=True)
class Borrow:
    """Take ``field`` instead (None: nothing left); ``warning`` is the real code's log line for it."""

    field: str | None
    fallback: str                # cross-direction | system-prompt | none
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Refuse:
    """Raise ``MissingPromptError`` with ``message`` (the fix, option 1); the log line adds ``[PROMPT ERROR] ``."""

    message: str


SourceVerdict = Borrow | Refuse


@runtime_checkable
class PromptSource(Protocol):
    """Where builder A takes its text and what it does when that text is empty."""

    @property
    def appointment_live(self) -> bool: ...

    def primary_field(self, direction: str) -> str: ...

    def extract(self, business_name: str, raw: str | None) -> str: ...

    def on_empty(self, direction: str, business_id: int | None, present: Mapping[str, bool]) -> SourceVerdict: ...


def direction_field(direction: str) -> str:
    """The settings field that holds a direction's prompt (BUGGY's ``== "outbound"`` test)."""
    return "outbound_ai_prompt" if direction == "outbound" else "ai_prompt"


@dataclass(frozen=True, slots=True)
class _FieldSource:
    strip_json: bool = True          # BUGGY strips before the JSON test; the fix does not (R7)
    appointment_live: bool = False   # the appointment block is dead code in A (H7 / R10)

    def __post_init__(self) -> None:
        check_flags(self, "strip_json", "appointment_live")

    def primary_field(self, direction: str) -> str:
        return direction_field(direction)

    def extract(self, business_name: str, raw: str | None) -> str:
        if self.strip_json:
            return pt.extract_business_prompt_text_legacy(business_name, raw)
        return pt.extract_business_prompt_text_fix(business_name, raw)


@dataclass(frozen=True, slots=True)
class CrossDirectionFallback(_FieldSource):
    """BUGGY d34d8dc1: borrow the other direction's prompt, then ``system_prompt`` (hazard H1)."""

    def on_empty(self, direction: str, business_id: int | None, present: Mapping[str, bool]) -> SourceVerdict:
        if direction == "outbound" and present.get("ai_prompt"):
            return Borrow("ai_prompt", "cross-direction",
                          f"[PROMPT FALLBACK] Using inbound prompt as fallback for outbound business_id={business_id}")
        if direction == "inbound" and present.get("outbound_ai_prompt"):
            return Borrow("outbound_ai_prompt", "cross-direction",
                          f"[PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id={business_id}")
        if present.get("system_prompt"):
            return Borrow("system_prompt", "system-prompt",
                          f"[PROMPT FALLBACK] Using system_prompt as fallback for business_id={business_id}")
        return Borrow(None, "none")


@dataclass(frozen=True, slots=True)
class NoFallback(_FieldSource):
    """The fix (872f4546, option 1): an empty field raises instead of borrowing.

    The fix tests ``direction == "inbound"`` (spec §13.1 item 2): any other value (``unknown``,
    ``Outbound``, ...) reads ``outbound_ai_prompt`` and is named OUTBOUND in the error.
    """

    def primary_field(self, direction: str) -> str:
        return "ai_prompt" if direction == "inbound" else "outbound_ai_prompt"

    def on_empty(self, direction: str, business_id: int | None, present: Mapping[str, bool]) -> SourceVerdict:
        label = "INBOUND" if direction == "inbound" else "OUTBOUND"
        return Refuse(f"Missing {label} prompt for business_id={business_id}. "
                      f"Please configure '{self.primary_field(direction)}' in BusinessSettings.")
