"""Scenario builders shared by the benchmarks (not collected by pytest)."""

from __future__ import annotations

from callreplay.testing import business, write_recording

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
    write_recording(folder / "recording.jsonl", frames, speech_us=4_000_000, silence_us=2_000_000, seed=3)
    seconds = frames // 50
    return {"name": "bench-recording", "businesses": [business()],
            "pipeline": {"max_realtime_seconds_per_call": f"{seconds + 60}s", "max_audio_frames_per_call": frames * 2},
            "steps": [{"at": 0, "webhook": "incoming_call",
                       "params": {"CallSid": SID, "From": "+972501234567", "To": "+97231234567"}},
                      {"at": 0.8, "call": SID, "ws": "start"},
                      {"at": 0.84, "call": SID, "ws": {"media": {"recording": "recording.jsonl"}}},
                      {"at": seconds + 2, "call": SID, "ws": "stop"}]}
