"""A streamed recording keeps Twilio's numbering across its chunks, whatever is sent in between."""


import callreplay.recording as recording
from callreplay.testing import CALLER, INBOUND_SID, business, replay_findings, scenario_from_dict, write_recording


def test_mark_echoes_between_chunks_keep_the_numbering(tmp_path, monkeypatch):
    monkeypatch.setattr(recording, "CHUNK_FRAMES", 97)  # many chunk boundaries
    write_recording(tmp_path / "call.jsonl", 3000)
    steps = [
        {"at": 0, "webhook": "incoming_call", "params": {"CallSid": INBOUND_SID, "From": CALLER, "To": "+97231234567"}},
        {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
        {"at": 0.84, "call": INBOUND_SID, "ws": {"media": {"recording": "call.jsonl"}}},
        *({"at": t + 0.5, "call": INBOUND_SID, "ws": {"mark": f"m{t}"}} for t in range(2, 60, 2)),
        {"at": 62, "call": INBOUND_SID, "ws": "stop"},
    ]
    scenario = scenario_from_dict({"name": "chunks", "businesses": [business()], "steps": steps,
                                   "pipeline": {"keepalive_interval_sec": 0.5}}, tmp_path)
    result, findings = replay_findings(scenario, "hardened")
    assert [f for f in findings if f.detector == "audio-protocol"] == []
    ended = next(e for e in result.trace.events if e.kind == "call.ended")
    assert ended.data["counters"]["rx"] == 3000
    echoes = [e for e in result.trace.events if e.kind == "ws.in" and e.data["event"] == "mark"]
    assert len(echoes) > 100  # keepalive echoes and scripted marks interleave with the frames
