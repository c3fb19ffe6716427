"""A recorded call drives a live target: its frames, chunk after chunk, with Twilio's numbering kept.

The motivating use of live mode: a call captured with ``callreplay record`` and imported, replayed
against the user's server. The recording is read a few seconds at a time while it plays; here it
spans two of those chunks, and every frame must leave once, numbered on from the stream's counter.
"""

from __future__ import annotations

import json
import sys

import pytest
from helpers import run_cli

from callreplay.live.driver import LIVE_RECORDING_CHUNK
from callreplay.testing import BUSINESS_PHONE, CALLER, INBOUND_SID, business, write_recording

pytestmark = pytest.mark.live

FRAMES = LIVE_RECORDING_CHUNK + 50  # the second chunk is read while the call plays


def test_a_recorded_call_is_played_to_the_target_across_chunks(tmp_path):
    write_recording(tmp_path / "call.jsonl", FRAMES)
    scenario = tmp_path / "recorded.yaml"
    scenario.write_text(json.dumps({
        "name": "recorded-call", "businesses": [business()], "expect": {"live": "clean"},
        "steps": [
            {"at": 0, "webhook": "incoming_call", "params": {"CallSid": INBOUND_SID, "From": CALLER,
                                                              "To": BUSINESS_PHONE}},
            {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
            {"at": 0.84, "call": INBOUND_SID, "ws": {"media": {"recording": "call.jsonl"}}},
            {"at": 0.84 + FRAMES * 0.02 + 0.5, "call": INBOUND_SID, "ws": "stop"},
        ]}))
    out = tmp_path / "run.json"
    done = run_cli("exec", "-s", str(scenario), "--report-dir", str(tmp_path / "reports"), "--no-html", "--json",
                   str(out), "--", sys.executable, "-m", "callreplay", "serve", "--profile", "fixed", "--scenario",
                   str(scenario), "--listen", "127.0.0.1:{port}")
    output = done.stdout + done.stderr
    assert done.returncode == 0 and out.exists(), output
    trace = [json.loads(line) for line in
             (tmp_path / "reports" / "traces" / "recorded-call--live.jsonl").read_text().splitlines()]
    kinds = {e["kind"] for e in trace}
    assert "live.step_unsupported" not in kinds and "ws.protocol" not in kinds and "ws.ignored" not in kinds
    [pacing] = [e["data"] for e in trace if e["kind"] == "ws.pacing"]
    assert pacing["frames"] == FRAMES  # every recorded frame left, once
    # the model heard them: the stand-in's realtime session received the caller's audio
    assert sum(e["data"]["frames"] for e in trace if e["kind"] == "realtime.audio_in") >= FRAMES * 0.9
