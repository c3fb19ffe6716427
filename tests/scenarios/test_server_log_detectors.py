"""Live mode: mismatch-ignored and cross-direction-fallback read the target's own log, by the spec's tags.

A live trace has no model internals; when ``callreplay exec`` captured the server's output, the
log lines the incident's pipeline writes (``[PROMPT FALLBACK]``, ``[PROMPT_MISMATCH] ... action=``)
are the evidence. Each detector fires on the line that proves its bug and stays silent on the
healthy twin of that line; without a captured log it is listed as not run, never silently green.
"""

from __future__ import annotations

from shipped import replayed

from callreplay.detectors import Needs, available_facets
from callreplay.detectors import _missing as missing_needs
from callreplay.detectors.pipeline_hazards import CrossDirectionFallback, MismatchIgnored
from callreplay.detectors.view import TraceView
from callreplay.trace import Trace, TraceEvent

SID = "CA" + "5" * 32
SCENARIO = "incident/incident-english-outbound.yaml"


def live_trace(*lines: str, call: str | None = SID) -> Trace:
    rows = [(None, "replay", "replay.start", {"mode": "live", "clock": "wall", "scenario": "s"}),
            (SID, "twilio", "call.started", {"stream_sid": "MZ" + "1" * 32, "custom_parameters": {}})]
    rows += [(call, "server", "log", {"level": "STDERR", "message": line}) for line in lines]
    return Trace(TraceEvent(i, i * 1000, c, comp, kind, data) for i, (c, comp, kind, data) in enumerate(rows))


def check(detector, trace: Trace) -> list:
    scenario, _ = replayed(SCENARIO, "legacy")
    return list(detector.check(TraceView(trace, scenario)))


def test_mismatch_ignored_fires_on_continue_and_not_on_rebuild():
    kept = f"2026-01-08 10:00:01,000 INFO [PROMPT_MISMATCH] call_sid={SID[:8]}... expected=inbound " \
           "prebuilt=outbound action=CONTINUE_NO_REBUILD"
    [finding] = check(MismatchIgnored(), live_trace(kept, call=None))  # the 8-character sid prefix names the call
    assert finding.call == SID and finding.details["source"] == "server-log"
    assert finding.evidence[0].label == "log" and "CONTINUE_NO_REBUILD" in finding.evidence[0].text
    rebuilt = kept.replace("CONTINUE_NO_REBUILD", "REBUILD")
    assert check(MismatchIgnored(), live_trace(rebuilt)) == []


def test_cross_direction_fallback_fires_on_the_other_directions_prompt_only():
    borrowed = "WARNING [PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id=7"
    [finding] = check(CrossDirectionFallback(), live_trace(borrowed))
    assert finding.call == SID and finding.business_id == 7 and "outbound prompt" in finding.message
    generic = "WARNING [PROMPT FALLBACK] Using system_prompt as fallback for business_id=7"
    assert check(CrossDirectionFallback(), live_trace(generic)) == []


def test_model_log_lines_in_a_live_trace_are_not_the_servers():
    # only the target's captured output counts: a line some other component wrote proves nothing here
    trace = live_trace()
    trace.events.append(TraceEvent(9, 9000, SID, "media_ws", "log", {
        "level": "OUT", "message": "[PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id=7"}))
    assert check(CrossDirectionFallback(), trace) == []


def test_without_a_captured_log_they_cannot_run_live_and_say_why():
    scenario, _ = replayed(SCENARIO, "legacy")
    bare = TraceView(live_trace("INFO uvicorn: started"), scenario)
    bare_no_log = TraceView(Trace(e for e in live_trace().events if e.kind != "log"), scenario)
    assert Needs.LOGS in available_facets(bare)
    assert missing_needs(MismatchIgnored(), available_facets(bare)) == frozenset()
    assert missing_needs(MismatchIgnored(), available_facets(bare_no_log)) == {Needs.MODEL}
