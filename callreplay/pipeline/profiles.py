"""Pipeline profiles: which behaviour of the spec a replay models.

A profile is a class of switches and two small hooks (the cache key and the expiry rule); the
model components read them. New profiles subclass an existing one and flip what differs, which
is also how a user's own profile is written (see ``examples/profiles.py``).

* ``legacy``   the code at the incident (BUGGY d34d8dc1)
* ``fixed``    the fix as shipped (872f4546, spec §10), residual hazards R1-R10 included
* ``hardened`` ``fixed`` with the residual hazards closed: the recommended end state
* ``option1-no-fallback`` / ``option2-guard-store`` / ``option3-rebuild-on-mismatch``: one fix option
  of the incident write-up each, on top of ``legacy``
"""

from __future__ import annotations

import importlib
import inspect

from ..durations import US_PER_S
from ..errors import ProfileError


class Profile:
    name = "legacy"
    summary = "the pipeline at the incident (BUGGY d34d8dc1)"
    # builder A (§4.2 / §10 items 2-3)
    cross_direction_fallback = True      # False: raise MissingPromptError instead (the fix, option 1)
    builder_a_strips = True              # False: the fix's no-strip JSON handling (R7)
    builder_a_appointment_live = False   # the block is dead in A (H7 / R10)
    swap_primary_prompt_field = False    # mutant: read the other direction's field first
    # webhook pre-build (§3.1 / §10 item 4)
    store_direction_metadata = False     # the fix's _prebuilt_direction/_business_id/_prompt_hash keys
    atomic_registry_write = False        # hardened: one locked write instead of four (R2)
    guard_store_on_fallback = False      # option 2: do not park a prompt that came from a fallback
    prebuild_key = "call"                # mutant: store under the wrong call
    # media-stream handler (§7.2-7.5 / §10 item 5)
    default_direction = "inbound"
    direction_lock = True
    normalize_direction = False          # hardened: R6
    mismatch_check = "substring"         # substring (HARD LOCK) | metadata (fix) | full (hardened: +business, hash)
    mismatch_action = "continue"         # continue (HARD LOCK) | rebuild
    missing_prompt = "greeting"          # greeting (legacy) | rebuild-cached (fix) | fail (hardened)
    wait_for_prebuild_us = 0             # hardened: wait this long for a pending pre-build
    strict_rebuild = False               # hardened: C/D raise instead of serving the generic template
    never_cache_generic_fallback = False
    # lifecycle (§6, §7.9-7.10)
    clear_registry_in_finally = True
    clear_registry_on_close = False      # hardened: retire with the call
    registry_entry_ttl_us: int | None = None  # hardened: retire orphans after a bounded time
    invalidate_cache_on_settings_change = False  # hardened: close R4
    refresh_prompt_in_live_calls = False  # hardened: re-validate the bound prompt (settings change, every TTL)
    sender_waits_for_session = True      # §8.3 step 1

    def cache_key(self, business_id, direction: str) -> str:
        return f"{business_id}:{direction}"

    def cache_entry_expired(self, age_us: int, ttl_us: int) -> bool:
        return age_us > ttl_us

    @classmethod
    def describe(cls) -> dict:
        return {"name": cls.name, "summary": cls.summary, "class": f"{cls.__module__}.{cls.__qualname__}"}


Legacy = Profile


class Fixed(Profile):
    name = "fixed"
    summary = "the fix as shipped (872f4546): no fallback, metadata mismatch -> rebuild; residual hazards R1-R10"
    cross_direction_fallback = False
    builder_a_strips = False
    store_direction_metadata = True
    mismatch_check = "metadata"
    mismatch_action = "rebuild"
    missing_prompt = "rebuild-cached"


class Hardened(Fixed):
    name = "hardened"
    summary = "fixed with its residual hazards closed: the recommended end state"
    builder_a_strips = True
    atomic_registry_write = True
    normalize_direction = True
    mismatch_check = "full"
    missing_prompt = "fail"
    wait_for_prebuild_us = 3 * US_PER_S
    strict_rebuild = True
    never_cache_generic_fallback = True
    clear_registry_on_close = True
    registry_entry_ttl_us = 60 * US_PER_S
    invalidate_cache_on_settings_change = True
    refresh_prompt_in_live_calls = True


class Option1NoFallback(Profile):
    name = "option1-no-fallback"
    summary = "legacy + fix option 1 alone: builder A fails fast instead of borrowing the other direction"
    cross_direction_fallback = False


class Option2GuardStore(Profile):
    name = "option2-guard-store"
    summary = "legacy + fix option 2 alone: the webhook does not park a prompt that came from a fallback"
    guard_store_on_fallback = True


class Option3RebuildOnMismatch(Profile):
    name = "option3-rebuild-on-mismatch"
    summary = "legacy + fix option 3 alone: the HARD LOCK heuristic rebuilds (uncached) on a mismatch"
    mismatch_action = "rebuild"


BUILTIN_PROFILES: dict[str, type[Profile]] = {p.name: p for p in (
    Profile, Fixed, Hardened, Option1NoFallback, Option2GuardStore, Option3RebuildOnMismatch)}


def _all_builtins() -> dict[str, type[Profile]]:
    from .mutants import MUTANTS

    return {**BUILTIN_PROFILES, **MUTANTS}


def profile_names() -> list[str]:
    return list(_all_builtins())


def load_profile(name: str, *, allow_code: bool = False) -> Profile:
    """A built-in profile by name, or ``package.module:attr`` (only when the user asked for code)."""
    builtins = _all_builtins()
    if name in builtins:
        return builtins[name]()
    if ":" not in name:
        raise ProfileError(f"unknown profile {name!r}; known: {', '.join(builtins)}, or package.module:attr")
    if not allow_code:
        raise ProfileError(f"profile {name!r} is Python code; it runs only when named with --pipeline")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # an import error of the user's module, whatever its kind
        raise ProfileError(f"cannot import {module_name!r} for profile {name!r}: {exc}") from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise ProfileError(f"module {module_name!r} has no attribute {attr!r}") from None
    if inspect.isclass(obj) and issubclass(obj, Profile):
        obj = obj()
    if not isinstance(obj, Profile):
        raise ProfileError(f"{name!r} is a {type(obj).__name__}, expected a callreplay.pipeline.profiles.Profile "
                           "subclass or instance")
    if obj.name in builtins and type(obj) is not builtins[obj.name]:
        obj.name = name
    return obj
