"""The built-in profiles, each a composition of policies (read top to bottom: legacy -> fixed -> hardened).

* ``legacy``   the code at the incident (BUGGY d34d8dc1)
* ``fixed``    the fix as shipped (872f4546, spec §10), residual hazards R1-R10 included
* ``hardened`` ``fixed`` with the residual hazards closed: the recommended end state
* ``option1-no-fallback`` / ``option2-guard-store`` / ``option3-rebuild-on-mismatch``: one fix option
  of the incident write-up each, on top of ``legacy``

``origin`` keeps the dotted names these profiles have always carried in results and traces.
"""

from __future__ import annotations

from ...durations import US_PER_S
from ..policies import (
    CrossDirectionFallback,
    DirectionKeyedCache,
    FullCheck,
    MetadataCheck,
    NoFallback,
    NoWait,
    PromptOnly,
    SenderAfterSession,
    SpecBuilders,
    SpecDirection,
    SpecLifecycle,
    SpecSettingsChange,
    SubstringCheck,
    WaitForPrebuild,
    WithMetadata,
)
from .profile import Profile

_ORIGIN = "callreplay.pipeline.profiles."

LEGACY = Profile(
    name="legacy",
    summary="the pipeline at the incident (BUGGY d34d8dc1)",
    prompt_source=CrossDirectionFallback(strip_json=True),
    builders=SpecBuilders(strict=False, strip_inbound=True, cache_generic_fallback=True),
    prebuild_store=PromptOnly(),
    direction=SpecDirection(default="inbound", normalize=False, lock=True),
    prompt_check=SubstringCheck(on_mismatch="continue", on_missing="ws-greeting-fallback"),
    prebuild_wait=NoWait(),
    cache=DirectionKeyedCache(),
    lifecycle=SpecLifecycle(clear_in_finally=True, clear_on_close=False, entry_ttl_us=None),
    settings_change=SpecSettingsChange(invalidates_cache=False, refreshes_live_calls=False),
    sender=SenderAfterSession(),
    origin=_ORIGIN + "Profile",
)

FIXED = LEGACY.with_(
    name="fixed",
    summary="the fix as shipped (872f4546): no fallback, metadata mismatch -> rebuild; residual hazards R1-R10",
    prompt_source=NoFallback(strip_json=False),
    builders=SpecBuilders(strict=False, strip_inbound=False, cache_generic_fallback=True),
    prebuild_store=WithMetadata(atomic=False),
    prompt_check=MetadataCheck(on_mismatch="rebuild", on_missing="rebuild-cached"),
    origin=_ORIGIN + "Fixed",
)

HARDENED = FIXED.with_(
    name="hardened",
    summary="fixed with its residual hazards closed: the recommended end state",
    prompt_source=NoFallback(strip_json=True),
    builders=SpecBuilders(strict=True, strip_inbound=True, cache_generic_fallback=False),
    prebuild_store=WithMetadata(atomic=True),
    direction=SpecDirection(default="inbound", normalize=True, lock=True),
    prompt_check=FullCheck(on_mismatch="rebuild", on_missing="fail"),
    prebuild_wait=WaitForPrebuild(timeout_us=3 * US_PER_S),
    lifecycle=SpecLifecycle(clear_in_finally=True, clear_on_close=True, entry_ttl_us=60 * US_PER_S),
    settings_change=SpecSettingsChange(invalidates_cache=True, refreshes_live_calls=True),
    origin=_ORIGIN + "Hardened",
)

OPTION1_NO_FALLBACK = LEGACY.with_(
    name="option1-no-fallback",
    summary="legacy + fix option 1 alone: builder A fails fast instead of borrowing the other direction",
    prompt_source=NoFallback(strip_json=True),
    origin=_ORIGIN + "Option1NoFallback",
)

OPTION2_GUARD_STORE = LEGACY.with_(
    name="option2-guard-store",
    summary="legacy + fix option 2 alone: the webhook does not park a prompt that came from a fallback",
    prebuild_store=PromptOnly(guard_fallback=True),
    origin=_ORIGIN + "Option2GuardStore",
)

OPTION3_REBUILD_ON_MISMATCH = LEGACY.with_(
    name="option3-rebuild-on-mismatch",
    summary="legacy + fix option 3 alone: the HARD LOCK heuristic rebuilds (uncached) on a mismatch",
    prompt_check=SubstringCheck(on_mismatch="rebuild", on_missing="ws-greeting-fallback"),
    origin=_ORIGIN + "Option3RebuildOnMismatch",
)

BUILTINS: tuple[Profile, ...] = (LEGACY, FIXED, HARDENED, OPTION1_NO_FALLBACK, OPTION2_GUARD_STORE,
                                 OPTION3_REBUILD_ON_MISMATCH)
