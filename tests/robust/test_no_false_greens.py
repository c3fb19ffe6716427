"""No false greens: a call the pipeline never processed is an error finding saying why."""

from __future__ import annotations

import json

import pytest

from callreplay.detectors.not_processed import CallNotProcessed
from callreplay.detectors.view import TraceView
from callreplay.errors import ScenarioError
from callreplay.replay import replay
from callreplay.scenario.load import load_scenario
from callreplay.trace import Trace

from .helpers import HEAD, write

SID = "CA1"
STREAM = "MZ18ad3ab5a668481ce02b83e7395059f0"
# The shape of Twilio's documented start message, with customParameters empty, absent or named otherwise.
START_BODIES = {
    "empty": {"streamSid": STREAM, "accountSid": "AC" + "0" * 32, "callSid": SID, "tracks": ["inbound"],
              "customParameters": {}, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}},
    "absent": {"streamSid": STREAM, "accountSid": "AC" + "0" * 32, "callSid": SID, "tracks": ["inbound"],
               "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}},
    "named otherwise": {"streamSid": STREAM, "accountSid": "AC" + "0" * 32, "callSid": SID, "tracks": ["inbound"],
                        "customParameters": {"called_number": "+97231234567", "tenant": "1"},
                        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}},
}


def _findings(scenario, profile="fixed"):
    return list(CallNotProcessed().check(TraceView(replay(scenario, profile).trace, scenario)))


@pytest.mark.parametrize("form", sorted(START_BODIES))
def test_a_real_start_without_what_the_model_reads_is_an_error(tmp_path, form):
    raw = {"event": "start", "sequenceNumber": "1", "streamSid": STREAM, "start": START_BODIES[form]}
    text = HEAD + (f"  - {{at: 800ms, call: {SID}, ws: connected}}\n"
                   f"  - {{at: 820ms, call: {SID}, ws: {json.dumps(raw)}}}\n"
                   f"  - {{at: 840ms, call: {SID}, ws: {{media: {{silence: 2s}}}}}}\n"
                   f"  - {{at: 3s, call: {SID}, ws: stop}}\n")
    findings = _findings(load_scenario(write(tmp_path, "s.yaml", text)))
    assert [f.detector for f in findings] == ["call-not-processed"]
    assert findings[0].severity.value == "error"
    assert "rejected at start" in findings[0].message
    assert "the start lacks customParameters.To" in findings[0].message


def test_media_before_start_is_refused_at_validate(tmp_path):
    text = HEAD + f"  - {{at: 840ms, call: {SID}, ws: {{media: {{silence: 1s}}}}}}\n"
    with pytest.raises(ScenarioError, match="media for call 'CA1' before its 'start'"):
        load_scenario(write(tmp_path, "s.yaml", text))


def test_frames_on_a_stream_that_never_started_are_an_error(tmp_path):
    """A recording (or a live trace) where the start was lost: the Twilio side sent frames, nothing received them."""
    scenario = load_scenario(write(tmp_path, "s.yaml", HEAD))
    trace = Trace()
    trace.emit(0, SID, "twilio", "ws.open")
    trace.emit(840_000, SID, "twilio", "ws.media", frames=50, first_us=840_000, last_us=1_820_000, step="steps[1]")
    findings = list(CallNotProcessed().check(TraceView(trace, scenario)))
    assert [f.message for f in findings] == [
        "call CA1: 50 inbound frames were sent but no start reached the pipeline, so none was processed"]


def test_frames_sent_after_start_but_never_received_are_an_error(tmp_path):
    scenario = load_scenario(write(tmp_path, "s.yaml", HEAD))
    trace = Trace()
    trace.emit(820_000, SID, "media_ws", "call.started", custom_parameters={"To": "+97231234567"}, direction="inbound",
               to="+97231234567", stream_sid=STREAM, from_=None)
    trace.emit(840_000, SID, "twilio", "ws.media", frames=50, first_us=840_000, last_us=1_820_000, step="steps[1]")
    trace.emit(2_000_000, SID, "media_ws", "call.ended", reason="twilio_stop_event", counters={"rx": 0})
    findings = list(CallNotProcessed().check(TraceView(trace, scenario)))
    assert len(findings) == 1 and "none reached the pipeline" in findings[0].message


def test_a_processed_call_has_no_finding(tmp_path):
    text = HEAD + (f"  - {{at: 800ms, call: {SID}, ws: connected}}\n  - {{at: 820ms, call: {SID}, ws: start}}\n"
                   f"  - {{at: 840ms, call: {SID}, ws: {{media: {{silence: 2s}}}}}}\n"
                   f"  - {{at: 3s, call: {SID}, ws: stop}}\n")
    assert _findings(load_scenario(write(tmp_path, "s.yaml", text))) == []


def test_import_capture_warns_when_the_start_lacks_what_the_model_reads(tmp_path):
    from callreplay.capture.importers.from_capture import import_capture

    start = {"event": "start", "sequenceNumber": "1", "streamSid": STREAM, "start": START_BODIES["empty"]}
    lines = [{"type": "capture", "version": 1, "call_sid": SID, "started_at": "2026-01-08T08:00:00+00:00"},
             {"t_us": 0, "type": "http.request", "method": "POST", "path": "/webhook/incoming_call",
              "form": {"CallSid": SID, "From": "+972501234567", "To": "+97231234567", "Direction": "inbound"}},
             {"t_us": 400_000, "type": "ws.open", "path": "/ws"},
             {"t_us": 420_000, "type": "ws.in", "text": json.dumps(start)},
             {"t_us": 500_000, "type": "ws.close", "code": 1000}]
    capture = tmp_path / "c.jsonl"
    capture.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    report = import_capture([capture], tmp_path / "out" / "s.yaml")
    assert any("the recorded start lacks customParameters.To" in p for p in report.problems), report.problems
