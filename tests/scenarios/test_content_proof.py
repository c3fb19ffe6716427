"""direction-contamination proved by content alone: no provenance, and labels that lie either way."""

from __future__ import annotations

import dataclasses

from shipped import replayed

from callreplay.detectors.contamination import DirectionContamination
from callreplay.detectors.view import TraceView
from callreplay.trace import Trace

INCIDENT = "incident/incident-inbound-gets-outbound-prompt.yaml"
HEALTHY_INBOUND = "race/prebuild-in-time.yaml"


def without_provenance(trace: Trace, rewrite=None) -> Trace:
    """A copy as a recording would have it: no prompt.built events, no prompt ids; optionally rewritten text."""
    events = []
    for e in trace.events:
        if e.kind == "prompt.built":
            continue
        data = dict(e.data)
        if "prompt_id" in data:
            data["prompt_id"] = None
        if e.kind == "realtime.session_update" and rewrite:
            data["instructions"] = rewrite(data["instructions"])
        events.append(dataclasses.replace(e, data=data))
    return Trace(events)


def contamination(trace: Trace, scenario):
    return list(DirectionContamination().check(TraceView(trace, scenario)))


def test_incident_is_proved_by_content_alone():
    result, _ = replayed(INCIDENT, "legacy")
    stripped = without_provenance(result.trace)
    assert not stripped.of_kind("prompt.built")
    findings = contamination(stripped, result.scenario)
    assert len(findings) == 3
    for f in findings:
        assert f.details["proofs"] == ["content"]
        (content,) = [e for e in f.evidence if e.label == "content"]
        assert content.data["label"] == "outbound_ai_prompt"
        assert content.data["containment"] >= 0.6


def test_labels_naming_the_other_direction_do_not_fire_it():
    """A healthy inbound call whose header, footer and direction sentence are rewritten to OUTBOUND."""
    result, _ = replayed(HEALTHY_INBOUND, "legacy")

    def relabel(text: str) -> str:
        return (text.replace("Call: INBOUND", "Call: OUTBOUND").replace("CALL TYPE: INBOUND", "CALL TYPE: OUTBOUND")
                .replace("The customer called the business.", "You are calling the customer.")
                .replace("Caller contacted the business.", "You initiated this call."))

    relabelled = without_provenance(result.trace, relabel)
    sent = relabelled.of_kind("realtime.session_update")[0].data["instructions"]
    assert "CALL TYPE: OUTBOUND" in sent and "Call: OUTBOUND" in sent
    assert contamination(relabelled, result.scenario) == []


def test_correct_labels_do_not_hide_the_other_directions_body():
    """H6: the incident's labels all say INBOUND; the content proof looks past them."""
    result, _ = replayed(INCIDENT, "legacy")
    sent = result.trace.of_kind("realtime.session_update")[0].data["instructions"]
    assert "Call: INBOUND" in sent and "CALL TYPE: INBOUND" in sent
    (first, *_) = contamination(without_provenance(result.trace), result.scenario)
    assert any(e.label == "labels" for e in first.evidence)


def test_scaffolding_alone_with_other_direction_labels_does_not_fire():
    """Instructions holding only the layering (rules, header, footer) of the other direction and no business text."""
    result, _ = replayed(HEALTHY_INBOUND, "legacy")
    sent = result.trace.of_kind("realtime.session_update")[0].data["instructions"]
    head, _, _ = sent.partition("BUSINESS PROMPT")

    def scaffolding_only(_: str) -> str:
        return (head.replace("Caller contacted the business.", "You initiated this call.")
                + "BUSINESS PROMPT (Business ID: 21, Name: Beta Plumbing, Call: OUTBOUND): "
                + "CALL TYPE: OUTBOUND. You are calling the customer. Follow the business prompt for flow.")

    assert contamination(without_provenance(result.trace, scaffolding_only), result.scenario) == []
