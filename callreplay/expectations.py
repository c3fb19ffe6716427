"""Does a replay meet its scenario's ``expect`` for a profile? A verdict with reasons, never a bare bool.

A replay passes when every expected finding occurred (within ``at_least``/``at_most``) and no
unexpected finding at or above the gate severity did. ``clean`` expects no finding at or above
the gate and none of severity warning or error. When an expectation is missed, the closest
findings that did occur are listed (same detector on another call, or another detector on the
same call), so a failure explains itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .detectors.base import Finding, Severity
from .latency import Measurement, measure
from .scenario.model import Expectation, ExpectedFinding, ExpectedLatency
from .trace import Trace


@dataclass
class EntryResult:
    expected: ExpectedFinding
    count: int
    met: bool
    near_misses: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        e = self.expected
        return {"finding": e.finding, "call": e.call, "severity": e.severity, "at_least": e.at_least,
                "at_most": e.at_most, "count": self.count, "met": self.met,
                "near_misses": [_ref(f) for f in self.near_misses]}


@dataclass
class LatencyResult:
    """A latency bound against what was measured: ``violations`` are the intervals over the bound."""

    expected: ExpectedLatency
    measured: list[Measurement]
    violations: list[Measurement]

    @property
    def met(self) -> bool:
        return bool(self.measured) and not self.violations

    def as_dict(self) -> dict[str, Any]:
        e = self.expected
        return {"metric": e.metric, "call": e.call, "within_us": e.within_us, "met": self.met,
                "measured": [{"call": m.call, "start_us": m.start_us, "latency_us": m.latency_us}
                             for m in self.measured],
                "violations": [{"call": m.call, "start_us": m.start_us, "latency_us": m.latency_us}
                               for m in self.violations]}


@dataclass
class Verdict:
    profile: str
    passed: bool
    declared: bool                 # False when the scenario names no expectation for this profile
    clean: bool = False
    entries: list[EntryResult] = field(default_factory=list)
    unexpected: list[Finding] = field(default_factory=list)
    latency: list[LatencyResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        body = {"profile": self.profile, "passed": self.passed, "declared": self.declared, "clean": self.clean,
                "entries": [e.as_dict() for e in self.entries], "unexpected": [_ref(f) for f in self.unexpected]}
        if self.latency:  # absent when none is declared, so results without latency bounds stay as they were
            body["latency"] = [r.as_dict() for r in self.latency]
        return body


def _ref(f: Finding) -> dict[str, Any]:
    return {"detector": f.detector, "severity": f.severity.value, "call": f.call, "at_us": f.at_us,
            "message": f.message}


def _matches(expected: ExpectedFinding, finding: Finding) -> bool:
    return (finding.detector == expected.finding and (expected.call is None or finding.call == expected.call)
            and (expected.severity is None or finding.severity.value == expected.severity))


def evaluate_latency(expected: ExpectedLatency, trace: Trace) -> LatencyResult:
    """Every interval of the metric (on ``call`` if named) must be within the bound; none measured fails too.

    An awaited audio that never came is a violation, unless the call closed before the bound ran out.
    """
    measured = [m for m in measure(trace, expected.metric) if expected.call in (None, m.call)]
    violations = []
    for m in measured:
        latency = m.latency_us
        if latency is None:
            open_for = None if m.call_end_us is None else m.call_end_us - m.start_us
            if open_for is None or open_for > expected.within_us:
                violations.append(m)
        elif latency > expected.within_us:
            violations.append(m)
    return LatencyResult(expected, measured, violations)


def evaluate(expectation: Expectation | None, profile: str, findings: list[Finding], fail_on: Severity,
             trace: Trace | None = None) -> Verdict:
    """The verdict of one replay; ``trace`` is needed only when the expectation holds latency bounds."""
    verdict = _evaluate_findings(expectation, profile, findings, fail_on)
    if expectation is not None and expectation.latency:
        if trace is None:
            raise ValueError("latency expectations need the replay's trace")
        verdict.latency = [evaluate_latency(e, trace) for e in expectation.latency]
        verdict.passed = verdict.passed and all(r.met for r in verdict.latency)
    return verdict


def _evaluate_findings(expectation: Expectation | None, profile: str, findings: list[Finding],
                       fail_on: Severity) -> Verdict:
    gate = fail_on.rank
    if expectation is None:
        unexpected = [f for f in findings if f.severity.rank >= gate]
        return Verdict(profile, not unexpected, False, unexpected=unexpected)
    if expectation.clean:
        bad = [f for f in findings if f.severity.rank >= min(gate, Severity.WARNING.rank)]
        return Verdict(profile, not bad, True, clean=True, unexpected=bad)
    entries = []
    for expected in expectation.findings:
        matched = [f for f in findings if _matches(expected, f)]
        met = len(matched) >= expected.at_least and (expected.at_most is None or len(matched) <= expected.at_most)
        near = []
        if not met and not matched:
            near = [f for f in findings if f.detector == expected.finding or (expected.call and f.call == expected.call)]
        entries.append(EntryResult(expected, len(matched), met, near[:5]))
    unexpected = [f for f in findings if f.severity.rank >= gate
                  and not any(_matches(e, f) or (e.finding == f.detector and e.call in (None, f.call)
                                                 and e.severity is None) for e in expectation.findings)]
    passed = all(e.met for e in entries) and not unexpected
    return Verdict(profile, passed, True, entries=entries, unexpected=unexpected)
