"""Scenario builders shared by the benchmarks (not collected by pytest)."""

from __future__ import annotations

from callreplay.testing import business

SID = "CA" + "b" * 32


def long_inbound_call(hours: float = 2.0, *, simple_mode: bool = True, turns_every_s: int = 30) -> dict:
    """One inbound call of ``hours`` of alternating speech/silence, model turns, sender limits raised."""
    seconds = int(hours * 3600)
    steps = [
        {"at": 0, "webhook": "incoming_call",
         "params": {"CallSid": SID, "From": "+972501234567", "To": "+97231234567", "Direction": "inbound"}},
        {"at": 0.8, "call": SID, "ws": "connected"},
        {"at": 0.82, "call": SID, "ws": "start"},
        {"at": 0.84, "call": SID, "ws": {"media": [{"speech": {"duration": "4s", "rms": 1500}}, {"silence": "2s"}]},
         "for": f"{seconds}s"},
    ]
    steps += [{"at": t, "call": SID, "realtime": {"respond": {"duration": "3s"}}}
              for t in range(turns_every_s, seconds, turns_every_s)]
    steps.append({"at": seconds + 1, "call": SID, "ws": "stop"})
    scenario = {"name": f"bench-{hours}h-call", "businesses": [business()],
                "pipeline": {"max_realtime_seconds_per_call": f"{seconds + 60}s",
                             "max_audio_frames_per_call": seconds * 60, "simple_mode": simple_mode},
                "steps": steps}
    if seconds > 24 * 3600:  # past the default media-step limit: a benchmark raises it as a user would
        scenario["limits"] = {"media_step": f"{seconds + 60}s"}
    return scenario


def recorded_call(folder, frames: int) -> dict:
    """Write a JSON-Lines recording of ``frames`` Twilio media messages and a scenario that streams it."""
    import base64
    import json

    import numpy as np

    from callreplay.audio import sources

    pattern = np.concatenate([sources.speech(4_000_000, 1500, 3), sources.silence(2_000_000)])
    encoded = [base64.b64encode(f.tobytes()).decode() for f in pattern]
    with open(folder / "recording.jsonl", "w", encoding="utf-8") as fh:
        for i in range(frames):
            fh.write(json.dumps({"event": "media", "sequenceNumber": str(i + 3), "streamSid": "MZ" + "0" * 32,
                                 "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20),
                                           "payload": encoded[i % len(encoded)]}}) + "\n")
    seconds = frames // 50
    return {"name": "bench-recording", "businesses": [business()],
            "pipeline": {"max_realtime_seconds_per_call": f"{seconds + 60}s", "max_audio_frames_per_call": frames * 2},
            "steps": [{"at": 0, "webhook": "incoming_call",
                       "params": {"CallSid": SID, "From": "+972501234567", "To": "+97231234567"}},
                      {"at": 0.8, "call": SID, "ws": "start"},
                      {"at": 0.84, "call": SID, "ws": {"media": {"recording": "recording.jsonl"}}},
                      {"at": seconds + 2, "call": SID, "ws": "stop"}]}
