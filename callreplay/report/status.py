"""Pure helpers: how a replay's outcome is labelled, whether a finding was expected, how time reads.

A replay that passed *because* its expected error findings fired (the ``legacy`` replay of an
incident) must never look like a clean pass nor like a failure, so it gets its own label and class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..durations import format_us

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}


@dataclass(frozen=True)
class Outcome:
    key: str      # css class suffix and filter value
    label: str    # the words shown (never colour alone)
    icon: str
    rank: int     # sort order: worst first


OUTCOMES = {
    "fail": Outcome("fail", "FAIL: unexpected or missing findings", "✗", 0),
    "error": Outcome("error", "ERROR: did not run", "!", 1),
    "expected": Outcome("expected", "expected findings: pass", "✓", 2),
    "pass": Outcome("pass", "pass", "✓", 3),
    "skipped": Outcome("skipped", "skipped", "–", 4),
}


def outcome_of(status: str, counts: dict[str, int] | None) -> Outcome:
    """``expected`` when a passing replay has error findings (they passed only because they were expected)."""
    if status == "pass":
        return OUTCOMES["expected" if (counts or {}).get("error", 0) > 0 else "pass"]
    return OUTCOMES.get(status, OUTCOMES["error"])


def _matches(entry: dict[str, Any], finding: dict[str, Any]) -> bool:
    return (entry.get("finding") == finding.get("detector")
            and entry.get("call") in (None, finding.get("call"))
            and entry.get("severity") in (None, finding.get("severity")))


def is_expected(verdict: dict[str, Any] | None, finding: dict[str, Any]) -> bool:
    """True if an expectation entry of the verdict names this finding."""
    return any(_matches(e, finding) for e in (verdict or {}).get("entries") or [])


def fmt_us(us: Any) -> str:
    """``format_us`` for numbers, ``-`` for anything else."""
    return format_us(int(us)) if isinstance(us, (int, float)) else "-"


def short_sid(sid: Any) -> str:
    """``CA0000…0001``: enough of a CallSid to tell calls apart in a narrow column."""
    s = str(sid or "-")
    return s if len(s) <= 14 else f"{s[:6]}…{s[-4:]}"
