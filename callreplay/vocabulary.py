"""The scenario vocabulary of this installation: registered detectors, profiles and pipeline settings.

Kept outside :mod:`callreplay.scenario` so that the loader depends on the names, not on the stages
that own them.
"""

from __future__ import annotations

from typing import Any

from .detectors.registry import all_detectors
from .pipeline.config import OVERRIDE_NAMES, build_config
from .pipeline.profiles import profile_names
from .scenario.vocabulary import Vocabulary


def _check_setting(name: str, value: Any) -> None:
    build_config({name: value})


def installed() -> Vocabulary:
    return Vocabulary(detectors=tuple(all_detectors()), profiles=tuple(profile_names()),
                      settings=tuple(OVERRIDE_NAMES), check_setting=_check_setting)
