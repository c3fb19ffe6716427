"""tenant-contamination by the session's tools, on hand-made traces: which tools fit the dialled business."""

from __future__ import annotations

from pathlib import Path

from callreplay.detectors.tool_tenancy import tool_effects
from callreplay.detectors.view import TraceView
from callreplay.scenario.model import BusinessSpec, Scenario
from callreplay.trace import Trace

SID = "CA" + "7" * 32
BUSINESSES = (BusinessSpec(11, "Acme", settings={"enable_calendar_scheduling": True}),
              BusinessSpec(12, "Acme Dental", settings={"enable_calendar_scheduling": False}),
              BusinessSpec(13, "Business"))


def problems(truth: int, *tools: tuple[str, str], accepted: bool = True) -> list[str]:
    trace = Trace()
    trace.emit(0, SID, "realtime", "realtime.session_update", instructions="x", accepted=accepted,
               tool_specs=[{"name": name, "text": text} for name, text in tools])
    view = TraceView(trace, Scenario("t", Path("t.yaml"), businesses=BUSINESSES))
    return [p for _, _, evidence in tool_effects(view, SID, truth) for p in evidence.data["problems"]]


def test_appointment_tools_need_calendar_scheduling_and_missing_counts_as_on():
    assert problems(12, ("check_availability", "Find slots.")) == [
        "appointment tools check_availability although business 12 has calendar scheduling disabled"]
    assert problems(11, ("check_availability", "Find slots.")) == []
    assert problems(13, ("schedule_appointment", "Book it.")) == []  # no settings: the platform's default, on


def test_a_name_of_another_business_counts_only_as_a_whole_name_not_inside_the_dialled_one():
    assert problems(11, ("take_message", "Take a message for Acme Dental.")) == [
        "tool 'take_message' names Acme Dental"]
    assert problems(12, ("take_message", "Take a message for Acme Dental.")) == []  # "Acme" inside its own name
    assert problems(11, ("take_message", "Take a message for Acme Dentalworks, Business hours only.")) == []


def test_a_rejected_update_configured_nothing():
    assert problems(12, ("check_availability", "Slots at Acme."), accepted=False) == []
