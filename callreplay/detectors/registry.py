"""Detectors are found through the ``callreplay.detectors`` entry-point group.

Built-ins are registered in ``setup.cfg`` under the same group a third-party package would use,
so there is one door in. Each entry point names a detector class or instance; on load it is
checked for an ``id``, a ``summary``, a valid ``severity`` and a callable ``check``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from ..errors import CallReplayError
from .base import Detector, Severity

GROUP = "callreplay.detectors"


class DetectorLoadError(CallReplayError):
    """Raised when an entry point of the ``callreplay.detectors`` group is not a usable detector."""


def _check(name: str, obj: Any) -> Detector:
    if isinstance(obj, type):
        obj = obj()
    missing = [attr for attr in ("id", "summary", "severity") if not getattr(obj, attr, None)]
    if not callable(getattr(obj, "check", None)):
        missing.append("check()")
    if missing:
        raise DetectorLoadError(f"detector entry point {name!r} lacks: {', '.join(missing)}")
    if not isinstance(obj.severity, Severity):
        try:
            obj.severity = Severity.parse(str(obj.severity))
        except ValueError as exc:
            raise DetectorLoadError(f"detector entry point {name!r}: {exc}") from None
    if obj.id != name:
        raise DetectorLoadError(f"detector entry point {name!r} has id {obj.id!r}; the two must match")
    return obj


@lru_cache(maxsize=1)
def all_detectors() -> dict[str, Detector]:
    """Every registered detector by id, built-ins first, in a stable order."""
    found: dict[str, Detector] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (not e.value.startswith("callreplay."), e.name)):
        if ep.name in found:
            continue
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must say so, not crash the run
            raise DetectorLoadError(f"cannot load detector entry point {ep.name!r} ({ep.value}): {exc}") from None
        found[ep.name] = _check(ep.name, obj)
    return found
