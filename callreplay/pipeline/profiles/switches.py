"""Named switches: one-line changes to a profile, each mapped onto one parameter of one policy.

They keep the old profile vocabulary working (``FIXED.with_(mismatch_action="continue")``) and make
the simplest user profile a single switch. A value outside a switch's choices is a ``ProfileError``
listing them; a switch that does not apply to the profile's current policy says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import ProfileError
from ..policies import (
    CrossDirectionFallback,
    FullCheck,
    MetadataCheck,
    NoFallback,
    NoWait,
    PromptOnly,
    SenderAfterSession,
    SenderFromStart,
    SubstringCheck,
    WaitForPrebuild,
    WithMetadata,
)
from ..policies._choice import check_choice, check_type

if TYPE_CHECKING:  # pragma: no cover
    from .profile import Profile

CHECKS: dict[str, type[SubstringCheck] | type[MetadataCheck]] = {"substring": SubstringCheck, "metadata": MetadataCheck,
                                                             "full": FullCheck}
MISSING_ALIASES = {"greeting": "ws-greeting-fallback"}


def _replace(profile: Profile, seam: str, **params: Any) -> Profile:
    policy = getattr(profile, seam)
    try:
        new = dataclasses.replace(policy, **params)
    except TypeError:
        raise ProfileError(f"{seam} policy {type(policy).__name__} has no parameter "
                           f"{', '.join(params)}; replace the policy instead") from None
    return dataclasses.replace(profile, **{seam: new})


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(f"{name}={value!r} is not valid; valid values are: True, False")
    return value


def _mismatch_check(profile: Profile, value: Any) -> Profile:
    check_choice("mismatch_check", value, CHECKS)
    current = profile.prompt_check
    params = {k: getattr(current, k) for k in ("on_mismatch", "on_missing") if hasattr(current, k)}
    return dataclasses.replace(profile, prompt_check=CHECKS[value](**params))


def _missing(profile: Profile, value: Any) -> Profile:
    return _replace(profile, "prompt_check", on_missing=MISSING_ALIASES.get(value, value))


def _fallback(profile: Profile, value: Any) -> Profile:
    src = profile.prompt_source
    kind = CrossDirectionFallback if _bool("cross_direction_fallback", value) else NoFallback
    params = {k: getattr(src, k) for k in ("strip_json", "appointment_live") if hasattr(src, k)}
    return dataclasses.replace(profile, prompt_source=kind(**params))


def _metadata(profile: Profile, value: Any) -> Profile:
    guard = getattr(profile.prebuild_store, "guard_fallback", False)
    store = WithMetadata(guard_fallback=guard) if _bool("store_direction_metadata", value) \
        else PromptOnly(guard_fallback=guard)
    return dataclasses.replace(profile, prebuild_store=store)


def _wait(profile: Profile, value: Any) -> Profile:
    check_type("wait_for_prebuild_us", value, int, "a number of microseconds")
    return dataclasses.replace(profile, prebuild_wait=WaitForPrebuild(value) if value else NoWait())


def _sender(profile: Profile, value: Any) -> Profile:
    sender = SenderAfterSession() if _bool("sender_waits_for_session", value) else SenderFromStart()
    return dataclasses.replace(profile, sender=sender)


def _param(seam: str, param: str, *, negate: bool = False) -> Callable[[Profile, Any], Profile]:
    def switch(profile: Profile, value: Any) -> Profile:
        if negate:
            value = not _bool(param, value)
        return _replace(profile, seam, **{param: value})
    return switch


SWITCHES: dict[str, Callable[[Profile, Any], Profile]] = {
    "cross_direction_fallback": _fallback,
    "builder_a_strips": _param("prompt_source", "strip_json"),
    "builder_a_appointment_live": _param("prompt_source", "appointment_live"),
    "strict_rebuild": _param("builders", "strict"),
    "never_cache_generic_fallback": _param("builders", "cache_generic_fallback", negate=True),
    "store_direction_metadata": _metadata,
    "atomic_registry_write": _param("prebuild_store", "atomic"),
    "guard_store_on_fallback": _param("prebuild_store", "guard_fallback"),
    "default_direction": _param("direction", "default"),
    "direction_lock": _param("direction", "lock"),
    "normalize_direction": _param("direction", "normalize"),
    "mismatch_check": _mismatch_check,
    "mismatch_action": _param("prompt_check", "on_mismatch"),
    "missing_prompt": _missing,
    "wait_for_prebuild_us": _wait,
    "clear_registry_in_finally": _param("lifecycle", "clear_in_finally"),
    "clear_registry_on_close": _param("lifecycle", "clear_on_close"),
    "registry_entry_ttl_us": _param("lifecycle", "entry_ttl_us"),
    "invalidate_cache_on_settings_change": _param("settings_change", "invalidates_cache"),
    "refresh_prompt_in_live_calls": _param("settings_change", "refreshes_live_calls"),
    "sender_waits_for_session": _sender,
}
