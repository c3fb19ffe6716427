"""Detectors turn a replay's trace into findings; see ``base`` for the shape and ``registry`` for loading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BaseDetector, Detector, Evidence, Finding, Severity
from .registry import DetectorLoadError, all_detectors
from .view import TraceView

if TYPE_CHECKING:  # pragma: no cover
    from ..replay import ReplayResult

__all__ = ["BaseDetector", "Detector", "DetectorLoadError", "Evidence", "Finding", "Severity", "TraceView",
           "all_detectors", "run_detectors"]


def run_detectors(result: ReplayResult, settings: dict[str, str] | None = None) -> list[Finding]:
    """Every enabled detector over the result's trace; ``settings`` maps id -> off|error|warning|info.

    The scenario's own ``detectors:`` switches apply first, then ``settings`` (the command line) on top.
    """
    merged = {**result.scenario.detector_settings, **(settings or {})}
    view = TraceView(result.trace, result.scenario)
    findings: list[Finding] = []
    for detector_id, detector in all_detectors().items():
        switch = merged.get(detector_id)
        if switch == "off":
            continue
        for finding in detector.check(view):
            if switch:
                finding = finding.with_severity(Severity.parse(switch))
            findings.append(finding)
    findings.sort(key=lambda f: (f.at_us, f.detector, f.call or ""))
    return findings
