"""One replay's outcome, and the one place its trace file is written (redacted unless --show-pii).

Both targets produce these: the in-process runner and live mode; keeping them here lets each import
it without importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .atomic_write import write_text_atomic
from .detectors.base import Finding
from .expectations import Verdict
from .redact import redact_json_lines
from .trace import canonical_json


@dataclass
class Outcome:
    file: str
    scenario: str
    profile: str
    status: str                    # pass | fail | error | skipped
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict | None = None
    error: str | None = None
    wall_s: float = 0.0
    calls: int = 0
    virtual_us: int = 0
    result: dict | None = None


NOT_RUN = "not run: the run was interrupted (Ctrl-C)"


def not_run(file: str, scenario: str, profile: str) -> Outcome:
    """A replay Ctrl-C stopped before it ran, in-process or live: listed, never counted as passed."""
    return Outcome(file, scenario, profile, "skipped", error=NOT_RUN)


def write_trace(path: Path, text: str, show_pii: bool) -> None:
    """Redacted value by value, so a JSON number in the trace (a 33-minute ``t_us``) is never starred."""
    write_text_atomic(path, text if show_pii else redact_json_lines(text, canonical_json))
