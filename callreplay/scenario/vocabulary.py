"""The names a scenario may use that belong to later stages: detector ids, profile names, pipeline settings.

The loader is handed a :class:`Vocabulary` instead of importing the detectors and the pipeline, so
the input stage knows nothing of the stages after it. :func:`callreplay.vocabulary.installed` builds
the one for this installation (plugins included) and the package registers it here with
:func:`set_installed`; a caller may pass its own (tests, other tools).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Vocabulary:
    detectors: Sequence[str]
    profiles: Sequence[str]
    settings: Sequence[str]
    # raises KeyError for an unknown setting, ValueError/TypeError for a bad value
    check_setting: Callable[[str, Any], None]


_installed: Callable[[], Vocabulary] | None = None


def set_installed(factory: Callable[[], Vocabulary]) -> None:
    """Register how to build this installation's vocabulary (``callreplay/__init__.py`` does, once)."""
    global _installed
    _installed = factory


def installed() -> Vocabulary:
    """The installation's vocabulary, for callers that pass none."""
    if _installed is None:  # pragma: no cover - the package __init__ always registers it
        raise RuntimeError("no scenario vocabulary registered; pass known=Vocabulary(...)")
    return _installed()
