"""Valid but odd scenarios replay without a traceback: each ends in a result or a one-line CallReplayError."""

import pytest

from callreplay.errors import CallReplayError
from callreplay.testing import CALLER, INBOUND_SID, business, replay_findings, scenario_from_dict

SID = INBOUND_SID
HOOK = {"at": 0, "webhook": "incoming_call", "params": {"CallSid": SID, "From": CALLER, "To": "+97231234567"}}

CASES = {
    "raw start without a start object": [HOOK, {"at": 1, "call": SID, "ws": {"event": "start"}}],
    "raw start with odd parameters": [HOOK, {"at": 1, "call": SID, "ws": {
        "event": "start", "sequenceNumber": "x", "start": {"customParameters": {"direction": "Outbound-API"}}}}],
    "raw media without payload": [HOOK, {"at": 1, "call": SID, "ws": "start"},
                                  {"at": 2, "call": SID, "ws": {"event": "media", "media": {}}}],
    "raw media with junk payload": [HOOK, {"at": 1, "call": SID, "ws": "start"},
                                    {"at": 2, "call": SID, "ws": {"event": "media", "media": {"payload": "@@@"}}}],
    "raw mark and dtmf without bodies": [HOOK, {"at": 1, "call": SID, "ws": "start"},
                                         {"at": 2, "call": SID, "ws": {"event": "mark"}},
                                         {"at": 3, "call": SID, "ws": {"event": "dtmf"}},
                                         {"at": 4, "call": SID, "ws": {"event": "surprise"}}],
    "empty To and no Direction": [{"at": 0, "webhook": "incoming_call", "params": {"CallSid": SID, "From": CALLER}},
                                  {"at": 1, "call": SID, "ws": "start"}, {"at": 5, "call": SID, "ws": "stop"}],
    "no CallSid in the webhook": [{"at": 0, "webhook": "incoming_call", "params": {"From": CALLER}}],
    "outbound with a non-numeric business_id": [
        {"at": 0, "webhook": "outbound_call", "params": {"CallSid": SID}, "query": {"business_id": "abc"}},
        {"at": 1, "call": SID, "ws": "start"}, {"at": 3, "call": SID, "ws": "stop"}],
    "stop and close twice, start twice": [HOOK, {"at": 1, "call": SID, "ws": "start"},
                                          {"at": 1.5, "call": SID, "ws": "start"},
                                          {"at": 2, "call": SID, "ws": "stop"}, {"at": 3, "call": SID, "ws": "stop"},
                                          {"at": 4, "call": SID, "ws": "close"}],
    "respond before any session": [HOOK, {"at": 0.5, "call": SID, "realtime": {"respond": {"duration": "2s"}}}],
    "settings to null prompts mid-call": [HOOK, {"at": 1, "call": SID, "ws": "start"},
                                          {"at": 1.1, "settings": {"business": 1, "set": {"ai_prompt": None,
                                                                                          "outbound_ai_prompt": None}}},
                                          {"at": 3, "call": SID, "ws": "stop"}],
    "a step hours later": [HOOK, {"at": 1, "call": SID, "ws": "start"}, {"at": "3h", "cache": "clear"}],
    "webhooks for calls that never were": [{"at": 0, "webhook": "call_status",
                                            "params": {"CallSid": "CA9", "CallStatus": "completed"}},
                                           {"at": 1, "webhook": "stream_ended", "params": {}},
                                           {"at": 2, "webhook": "stream_status", "params": {"CallSid": "CA8"}}],
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("profile", ["legacy", "fixed", "hardened"])
def test_odd_input_replays_or_fails_cleanly(tmp_path, name, profile):
    data = {"name": name, "businesses": [business()], "steps": CASES[name]}
    try:
        scenario = scenario_from_dict(data, tmp_path)
        result, findings = replay_findings(scenario, profile)
    except CallReplayError as exc:
        assert str(exc).count("\n") == 0
        return
    assert result.trace.events[-1].kind == "replay.end"


def test_a_scenario_without_businesses_or_steps(tmp_path):
    scenario = scenario_from_dict({"name": "empty", "steps": []}, tmp_path)
    result, findings = replay_findings(scenario, "fixed")
    assert findings == [] and result.trace.events[-1].kind == "replay.end"
