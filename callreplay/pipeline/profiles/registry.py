"""One door for every profile: built-ins, mutants and a user's ``package.module:attr`` load the same way.

:class:`ProfileRegistry` holds named profiles; :data:`REGISTRY` is the default one, filled with the
built-ins and the mutants. :func:`load_profile` resolves a name there, or imports user code when the
user asked for it (``--pipeline module:attr``), and checks the object it finds.
"""

from __future__ import annotations

import dataclasses
import importlib
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

from ...errors import ProfileError
from .builtin import BUILTINS
from .mutants import MUTANTS
from .profile import Profile


class ProfileRegistry:
    """Profiles by name; registering a second, different profile under a taken name is an error."""

    def __init__(self, profiles: Iterable[Profile] = ()) -> None:
        self._profiles: dict[str, Profile] = {}
        for profile in profiles:
            self.register(profile)

    def register(self, profile: Profile) -> Profile:
        if not isinstance(profile, Profile):
            raise ProfileError(f"cannot register a {type(profile).__name__}: expected a "
                               "callreplay.pipeline.profiles.Profile")
        known = self._profiles.get(profile.name)
        if known is not None and known != profile:
            raise ProfileError(f"a different profile is already registered as {profile.name!r}")
        self._profiles[profile.name] = profile
        return profile

    def get(self, name: str) -> Profile:
        try:
            return self._profiles[name]
        except KeyError:
            raise ProfileError(f"unknown profile {name!r}; known: {', '.join(self._profiles)}, "
                               "or package.module:attr") from None

    def names(self) -> list[str]:
        return list(self._profiles)

    def __contains__(self, name: object) -> bool:
        return name in self._profiles

    def __iter__(self) -> Iterator[Profile]:
        return iter(self._profiles.values())


REGISTRY = ProfileRegistry((*BUILTINS, *MUTANTS))


def profile_names() -> list[str]:
    """The names of the registered profiles (built-ins first, then mutants)."""
    return REGISTRY.names()


def load_profile(name: str | Profile, *, allow_code: bool = False, registry: ProfileRegistry = REGISTRY) -> Profile:
    """A registered profile by name, or ``package.module:attr`` (only when the user asked for code)."""
    if isinstance(name, Profile):
        return name
    if name in registry:
        return registry.get(name)
    if ":" not in name:
        registry.get(name)  # raises the "unknown profile" error with the known names
    if not allow_code:
        raise ProfileError(f"profile {name!r} is Python code; it runs only when named with --pipeline")
    return _from_code(name, registry)


def _from_code(reference: str, registry: ProfileRegistry) -> Profile:
    module_name, _, attr = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ProfileError as exc:  # a typo in the user's module: name the line that made the bad policy
        where = _user_frame(exc)
        text = str(exc) if where is None or str(exc).startswith(where) else f"{where}: {exc}"
        raise ProfileError(f"profile {reference!r}: {text}") from None
    except Exception as exc:  # an import error of the user's module, whatever its kind
        raise ProfileError(f"cannot import {module_name!r} for profile {reference!r}: {exc}") from None
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise ProfileError(f"module {module_name!r} has no attribute {attr!r}") from None
    if not isinstance(obj, Profile):
        raise ProfileError(f"{reference!r} is a {type(obj).__name__}, expected a callreplay.pipeline.profiles.Profile "
                           "(e.g. FIXED.with_(name=..., ...))")
    if obj.name in registry and registry.get(obj.name) != obj:
        obj = dataclasses.replace(obj, name=reference, origin="")  # a user profile never passes for a built-in
    if not obj.origin:
        obj = dataclasses.replace(obj, origin=f"{module_name}.{attr}")
    return obj


_PACKAGE = Path(__file__).resolve().parents[2]


def _user_frame(exc: BaseException) -> str | None:
    """``file:line`` of the innermost traceback frame outside callreplay and the import machinery."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if frame.filename.startswith("<") or _PACKAGE in path.resolve().parents:
            continue
        return f"{frame.filename}:{frame.lineno}"
    return None
