"""Three user profiles of increasing reach, each a value derived from a built-in one.

Run one with::

    callreplay run scenarios/incident --pipeline examples.profiles:NO_FALLBACK_REBUILD_ON_MISMATCH

(from the repository root, so that ``examples`` is importable). A profile is a frozen composition
of policies (see :mod:`callreplay.pipeline.policies`); ``with_()`` replaces what differs, and any
typo or invalid value is a ``ProfileError`` naming this file's line and the valid choices.

1. one switch:             ``NO_FALLBACK_REBUILD_ON_MISMATCH``
2. one replaced policy:    ``CHECKED_BUT_STILL_BORROWING``
3. a policy from scratch:  ``SYSTEM_PROMPT_FIRST``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from callreplay.pipeline import prompt_text
from callreplay.pipeline.policies import Borrow, CrossDirectionFallback, Refuse, SourceVerdict
from callreplay.pipeline.policies.builder_a import direction_field
from callreplay.pipeline.profiles import FIXED, OPTION3_REBUILD_ON_MISMATCH

# 1. One switch. The incident's code with fix options 1 and 3 together: builder A raises instead of
#    borrowing, and the HARD LOCK heuristic rebuilds on a mismatch. It keeps legacy's missing-prompt
#    path (bind the greeting, hazard H3), so the incident yields only ``missing-prompt`` warnings.
NO_FALLBACK_REBUILD_ON_MISMATCH = OPTION3_REBUILD_ON_MISMATCH.with_(
    name="no-fallback-rebuild-on-mismatch",
    summary="legacy + fix options 1 and 3: no cross-direction fallback, rebuild on a HARD LOCK mismatch",
    cross_direction_fallback=False,
)
NoFallbackRebuildOnMismatch = NO_FALLBACK_REBUILD_ON_MISMATCH  # the name older commands use

# 2. One replaced policy. The fix's metadata check shipped, but builder A kept the cross-direction
#    fallback: the pre-build parks the outbound script *labelled* inbound, the check sees matching
#    metadata and binds it. The incident's contamination comes back under a check that looks fixed.
CHECKED_BUT_STILL_BORROWING = FIXED.with_(
    name="checked-but-still-borrowing",
    summary="fixed, but builder A still borrows the other direction's prompt (option 1 missing)",
    prompt_source=CrossDirectionFallback(strip_json=False),
)


# 3. A policy written from scratch. A team whose builder A fell back to the business's
#    system_prompt before (never instead of) the other direction, and refused when neither existed.
@dataclass(frozen=True, slots=True)
class SystemPromptThenRefuse:
    """Builder A: the direction's own field, else ``system_prompt``, else ``MissingPromptError``."""

    appointment_live: bool = False

    def primary_field(self, direction: str) -> str:
        return direction_field(direction)

    def extract(self, business_name: str, raw: str | None) -> str:
        return prompt_text.extract_business_prompt_text_fix(business_name, raw)

    def on_empty(self, direction: str, business_id: int | None, present: Mapping[str, bool]) -> SourceVerdict:
        if present.get("system_prompt"):
            return Borrow("system_prompt", "system-prompt",
                          f"[PROMPT FALLBACK] Using system_prompt as fallback for business_id={business_id}")
        return Refuse(f"Missing {direction.upper()} prompt for business_id={business_id}. "
                      f"Please configure '{self.primary_field(direction)}' or 'system_prompt'.")


SYSTEM_PROMPT_FIRST = FIXED.with_(
    name="system-prompt-first",
    summary="fixed, with builder A falling back to system_prompt (never the other direction) before refusing",
    prompt_source=SystemPromptThenRefuse(),
)
