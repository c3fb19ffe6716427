"""callreplay: replay recorded Twilio call traffic against a faithful model of an AI voice-call pipeline.

The public surface is small on purpose: load scenarios, replay them under a profile, run the
detectors, read the trace and the findings, judge them against a scenario's ``expect``, run
whole folders as the CLI does, and write expectations back. ``docs/api.md`` documents each
name with an example; ``tests/engine/test_public_api.py`` pins the list. Everything else lives
in subpackages named after what they model, and may change between versions.
"""

from ._version import __version__  # noqa: E402
from .detectors import Finding, Severity, run_detectors  # noqa: E402
from .errors import CallReplayError, ImportFormatError, ProfileError, ReplayError, ScenarioError  # noqa: E402
from .expectations import Verdict, evaluate  # noqa: E402
from .pipeline.profiles import Profile, load_profile  # noqa: E402
from .replay import ReplayResult, replay  # noqa: E402
from .runner import Outcome, RunOptions, run_all  # noqa: E402
from .scenario.load import discover_scenarios, load_scenario  # noqa: E402
from .scenario.model import Scenario  # noqa: E402
from .scenario.vocabulary import set_installed  # noqa: E402
from .trace import Trace, TraceEvent, load_dataframe  # noqa: E402
from .update_expectations import update_expectation  # noqa: E402
from .vocabulary import installed as _installed_vocabulary  # noqa: E402

# the scenario loader is handed the later stages' names; this is the default it uses
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
