"""Detectors turn a replay's trace into findings; see ``base`` for the shape and ``registry`` for loading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BaseDetector, Detector, Evidence, Finding, Needs, Severity
from .registry import DetectorLoadError, all_detectors
from .view import TraceView

if TYPE_CHECKING:  # pragma: no cover
    from ..replay import ReplayResult

__all__ = ["BaseDetector", "Detector", "DetectorLoadError", "Evidence", "Finding", "Needs", "Severity", "TraceView",
           "all_detectors", "available_facets", "detectors_not_run", "run_detectors"]

IN_PROCESS_FACETS = frozenset({Needs.WIRE, Needs.MODEL, Needs.LOGS})
NEED_TEXT = {Needs.WIRE: "the wire (webhooks, streams, realtime events)",
             Needs.MODEL: "the model's internals (prompt provenance, prompt cache, stream registry)",
             Needs.LOGS: "the server's log (start the target with `callreplay exec` to capture it)",
             Needs.STATE: "the stored state of the call (a `probe` step of the scenario)"}


def available_facets(view: TraceView) -> frozenset[Needs]:
    """An in-process trace has everything; a live one has the wire, and logs only if the server's were captured.
    Either has the stored state only where a probe step read it (nothing else tells what was stored)."""
    state = frozenset({Needs.STATE}) if view.events("probe.result") else frozenset()
    if view.mode != "live":
        return IN_PROCESS_FACETS | state
    captured = any(e.component == "server" for e in view.events("log"))
    return (frozenset({Needs.WIRE, Needs.LOGS}) if captured else frozenset({Needs.WIRE})) | state


def _needs(detector: Detector) -> frozenset[Needs]:
    return frozenset(getattr(detector, "needs", None) or {Needs.MODEL})


def _missing(detector: Detector, have: frozenset[Needs]) -> frozenset[Needs]:
    """What the trace lacks for this detector: nothing if any of its sets of needs is there."""
    options = [_needs(detector), *(frozenset(o) for o in getattr(detector, "needs_instead", ()) or ())]
    gaps = [option - have for option in options]
    return frozenset() if any(not gap for gap in gaps) else gaps[0]


def detectors_not_run(result: ReplayResult) -> list[dict[str, str]]:
    """The detectors this trace cannot feed, each with why (shown by the CLI and the report)."""
    view = TraceView(result.trace, result.scenario)
    have = available_facets(view)
    out = []
    for detector_id, detector in all_detectors().items():
        missing = _missing(detector, have)
        if missing:
            reason = "needs " + " and ".join(NEED_TEXT[m] for m in sorted(missing))
            for option in getattr(detector, "needs_instead", ()) or ():
                reason += " (or " + " and ".join(NEED_TEXT[m] for m in sorted(option - have)) + ")"
            out.append({"detector": detector_id, "reason": reason + f", which this {view.mode} trace does not have"})
    return out


def run_detectors(result: ReplayResult, settings: dict[str, str] | None = None) -> list[Finding]:
    """Every enabled detector over the result's trace; ``settings`` maps id -> off|error|warning|info.

    The scenario's own ``detectors:`` switches apply first, then ``settings`` (the command line) on top.
    """
    merged = {**result.scenario.detector_settings, **(settings or {})}
    view = TraceView(result.trace, result.scenario)
    have = available_facets(view)
    findings: list[Finding] = []
    for detector_id, detector in all_detectors().items():
        switch = merged.get(detector_id)
        if switch == "off" or _missing(detector, have):
            continue
        for finding in detector.check(view):
            if switch:
                finding = finding.with_severity(Severity.parse(switch))
            findings.append(finding)
    findings.sort(key=lambda f: (f.at_us, f.detector, f.call or ""))
    return findings
