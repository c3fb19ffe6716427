"""What a detector is and what it returns.

A detector is a small object with a stable ``id``, a one-line ``summary``, a default
``severity`` and a pure ``check(view)`` that yields :class:`Finding` records. Every finding names
the call, the moment, the rule and the evidence; evidence points at trace events by ``seq`` so
a report can link straight to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from .view import TraceView


class Needs(StrEnum):
    """What a detector reads. A live trace has the wire (and the server's log when ``exec`` captured it),
    never the model's internals, so detectors that need those cannot run in live mode."""

    WIRE = "wire"    # webhooks, TwiML, Media Streams messages, realtime-session events as sent and received
    MODEL = "model"  # the in-process model's internals: provenance, prompt cache, stream registry
    LOGS = "logs"    # the application's log lines
    STATE = "state"  # what the application stored (call record, call log, lead), read by probe steps


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]

    @classmethod
    def parse(cls, value: str) -> Severity:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown severity {value!r}; expected error, warning or info") from None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence: a label, a readable sentence, the trace events behind it, raw data."""

    label: str
    text: str
    trace_seq: tuple[int, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "text": self.text, "trace_seq": list(self.trace_seq), "data": self.data}


@dataclass(frozen=True, slots=True)
class Finding:
    detector: str
    severity: Severity
    call: str | None
    at_us: int
    message: str
    evidence: tuple[Evidence, ...] = ()
    business_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"detector": self.detector, "severity": self.severity.value, "call": self.call, "at_us": self.at_us,
                "business_id": self.business_id, "message": self.message,
                "evidence": [e.as_dict() for e in self.evidence], "details": self.details}

    def with_severity(self, severity: Severity) -> Finding:
        return Finding(self.detector, severity, self.call, self.at_us, self.message, self.evidence,
                       self.business_id, self.details)


@runtime_checkable
class Detector(Protocol):
    id: str
    summary: str
    severity: Severity
    needs: frozenset[Needs]

    def check(self, view: TraceView) -> Iterable[Finding]: ...


class BaseDetector:
    """Convenience base: subclasses set ``id``/``summary``/``severity``/``why`` and implement ``check``."""

    id = ""
    summary = ""
    why = ""
    severity = Severity.ERROR
    needs: frozenset[Needs] = frozenset({Needs.MODEL})  # the safe default: in-process only
    # other sets of facets that also let it run (e.g. the model's internals in-process, or the server's
    # log lines in live mode); ``check`` reads whichever the trace has
    needs_instead: tuple[frozenset[Needs], ...] = ()

    def finding(self, view: TraceView, call: str | None, at_us: int, message: str, *evidence: Evidence,
                severity: Severity | None = None, business_id: int | None = None, **details: Any) -> Finding:
        return Finding(self.id, severity or self.severity, call, at_us, message, tuple(evidence),
                       business_id if business_id is not None else view.business_of(call), details)

    def check(self, view: TraceView) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError
