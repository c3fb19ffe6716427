"""Validation shared by the policies and switches: a bad value names the valid ones (vcrpy's record_mode style)."""

from __future__ import annotations

from collections.abc import Iterable

from ...errors import ProfileError


def label(owner: object, field: str) -> str:
    """``SpecDirection.default``: how a policy parameter is named in an error."""
    return f"{type(owner).__name__}.{field}"


def check_choice(what: str, value: object, valid: Iterable[str]) -> None:
    """Raise :class:`ProfileError` when ``value`` is not one of ``valid``."""
    choices = tuple(valid)
    if value not in choices:
        raise ProfileError(f"{what}={value!r} is not valid; valid values are: " + ", ".join(choices))


def check_type(what: str, value: object, kind: type, expected: str) -> None:
    """Raise :class:`ProfileError` when ``value`` is not a ``kind`` (a bool is not accepted as an int)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProfileError(f"{what}={value!r} is not valid; expected {expected}")


def check_flags(owner: object, *names: str) -> None:
    """Raise :class:`ProfileError` for the first of ``owner``'s fields ``names`` that is not a bool."""
    for name in names:
        check_type(label(owner, name), getattr(owner, name), bool, "true or false")
