"""Pipeline profiles: which behaviour of the spec a replay models, as frozen compositions of policies.

* :mod:`.profile`  the :class:`Profile` value, ``with_()`` and its validation
* :mod:`.switches` one-line switches mapped onto policy parameters
* :mod:`.builtin`  ``legacy``, ``fixed``, ``hardened`` and the three fix options
* :mod:`.mutants`  deliberately broken profiles for the mutation check
* :mod:`.registry` the one door all of them (and users' profiles) go through

A user profile is a value derived from a built-in one (see ``examples/profiles.py``)::

    OURS = FIXED.with_(name="ours", summary="...", prompt_check=MetadataCheck(on_mismatch="continue"))
"""

from __future__ import annotations

from .builtin import (
    BUILTINS,
    FIXED,
    HARDENED,
    LEGACY,
    OPTION1_NO_FALLBACK,
    OPTION2_GUARD_STORE,
    OPTION3_REBUILD_ON_MISMATCH,
)
from .mutants import MUTANTS
from .profile import SEAMS, Profile
from .registry import REGISTRY, ProfileRegistry, load_profile, profile_names
from .switches import SWITCHES

__all__ = [
    "BUILTINS", "FIXED", "HARDENED", "LEGACY", "MUTANTS", "OPTION1_NO_FALLBACK", "OPTION2_GUARD_STORE",
    "OPTION3_REBUILD_ON_MISMATCH", "REGISTRY", "SEAMS", "SWITCHES", "Profile", "ProfileRegistry", "load_profile",
    "profile_names",
]
