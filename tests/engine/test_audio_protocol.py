"""audio-protocol: media after Twilio's stop is a violation; audio after the application closed the socket is not."""

import base64

from callreplay.testing import CALLER, INBOUND_SID, business, replay_findings, scenario_from_dict

PAYLOAD = base64.b64encode(b"\xff" * 160).decode()  # one frame of mu-law silence


def _steps(after):
    return [
        {"at": 0, "webhook": "incoming_call", "params": {"CallSid": INBOUND_SID, "From": CALLER, "To": "+97231234567"}},
        {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
        {"at": 0.84, "call": INBOUND_SID, "ws": {"media": {"silence": "2s"}}},
        {"at": 3, "call": INBOUND_SID, "ws": after},
        {"at": 3.5, "call": INBOUND_SID, "ws": {"event": "media", "sequenceNumber": "999", "streamSid": None,
                                                 "media": {"track": "inbound", "chunk": "500", "timestamp": "2700",
                                                           "payload": PAYLOAD}}},
    ]


def _protocol(findings):
    return [(f.details.get("problem"), f.call) for f in findings if f.detector == "audio-protocol"]


def test_media_after_twilio_stop_is_a_violation(tmp_path):
    steps = _steps("stop")
    del steps[4]["ws"]["streamSid"]
    scenario = scenario_from_dict({"name": "after-stop", "businesses": [business()], "steps": steps}, tmp_path)
    _, findings = replay_findings(scenario, "hardened")
    assert _protocol(findings) == [("media-after-stop", INBOUND_SID)]


def test_audio_after_the_socket_dropped_is_not(tmp_path):
    steps = _steps("close")
    del steps[4]["ws"]["streamSid"]
    scenario = scenario_from_dict({"name": "after-close", "businesses": [business()], "steps": steps}, tmp_path)
    _, findings = replay_findings(scenario, "hardened")
    assert _protocol(findings) == []


def test_fault_counts_follow_the_faults_not_how_a_profile_slices_the_audio(tmp_path):
    """Each frame is checked once: 2% duplicates of 3,000 frames is 60 backwards numbers under every profile."""
    steps = [
        {"at": 0, "webhook": "incoming_call", "params": {"CallSid": INBOUND_SID, "From": CALLER, "To": "+97231234567"}},
        {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
        {"at": 0.84, "call": INBOUND_SID, "ws": {"media": [{"speech": {"duration": "3s", "rms": 1500}},
                                                          {"silence": "2s"}]}, "for": "60s",
         "faults": {"drop": 5, "duplicate": 0.02, "seed": 3}},
        {"at": 62, "call": INBOUND_SID, "ws": "stop"},
    ]
    scenario = scenario_from_dict({"name": "counts", "businesses": [business()], "steps": steps}, tmp_path)
    per_profile = {}
    for profile in ("legacy", "fixed", "hardened"):
        _, findings = replay_findings(scenario, profile)
        per_profile[profile] = {f.details["problem"]: f.details["count"] for f in findings
                                if f.detector == "audio-protocol"}
    assert per_profile["legacy"]["seq-backwards"] == round(0.02 * (3000 - 5))
    assert 1 <= per_profile["legacy"]["seq-skip"] <= 5
    assert per_profile["legacy"] == per_profile["fixed"] == per_profile["hardened"]
