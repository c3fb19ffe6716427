"""callreplay: replay recorded Twilio call traffic against a faithful model of an AI voice-call pipeline.

The public surface is small on purpose: load scenarios, replay them under a profile, run the
detectors, read the trace and the findings, judge them against a scenario's ``expect``, run
whole folders as the CLI does, and write expectations back. ``docs/api.md`` documents each
name with an example; ``tests/engine/test_public_api.py`` pins the list. Everything else lives
in subpackages named after what they model, and may change between versions.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .scenario.vocabulary import set_installed

if TYPE_CHECKING:  # pragma: no cover - what the names below resolve to, for type checkers and readers
    from .detectors import Finding, Severity, run_detectors
    from .errors import CallReplayError, ImportFormatError, ProfileError, ReplayError, ScenarioError
    from .expectations import Verdict, evaluate
    from .pipeline.profiles import Profile, load_profile
    from .replay import ReplayResult, replay
    from .runner import Outcome, RunOptions, run_all
    from .scenario.load import discover_scenarios, load_scenario
    from .scenario.model import Scenario
    from .trace import Trace, TraceEvent, load_dataframe
    from .update_expectations import update_expectation

# Each public name and the module that defines it, imported on first use: a process that needs one part
# (the realtime emulator's child, a CLI command, ``callreplay serve``) does not pay for loading every stage.
_HOMES = {
    "Finding": ".detectors", "Severity": ".detectors", "run_detectors": ".detectors",
    "CallReplayError": ".errors", "ImportFormatError": ".errors", "ProfileError": ".errors",
    "ReplayError": ".errors", "ScenarioError": ".errors",
    "Verdict": ".expectations", "evaluate": ".expectations",
    "Profile": ".pipeline.profiles", "load_profile": ".pipeline.profiles",
    "ReplayResult": ".replay", "replay": ".replay",
    "Outcome": ".runner", "RunOptions": ".runner", "run_all": ".runner",
    "discover_scenarios": ".scenario.load", "load_scenario": ".scenario.load",
    "Scenario": ".scenario.model",
    "Trace": ".trace", "TraceEvent": ".trace", "load_dataframe": ".trace",
    "update_expectation": ".update_expectations",
}


class _Package(types.ModuleType):
    """The package itself: importing the submodule ``callreplay.replay`` must not replace the public
    function ``callreplay.replay`` (the import system sets a package attribute per submodule it loads; with the
    names resolved lazily, that would otherwise win)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'callreplay' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))


def _installed_vocabulary():
    """The scenario loader is handed the later stages' names; building them imports those stages, so only
    when a scenario is first checked."""
    from .vocabulary import installed

    return installed()


set_installed(_installed_vocabulary)

__all__ = [
    "CallReplayError",
    "Finding",
    "ImportFormatError",
    "Outcome",
    "Profile",
    "ProfileError",
    "ReplayError",
    "ReplayResult",
    "RunOptions",
    "Scenario",
    "ScenarioError",
    "Severity",
    "Trace",
    "TraceEvent",
    "Verdict",
    "__version__",
    "discover_scenarios",
    "evaluate",
    "load_dataframe",
    "load_profile",
    "load_scenario",
    "replay",
    "run_all",
    "run_detectors",
    "update_expectation",
]
