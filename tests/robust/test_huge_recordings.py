"""Recordings are streamed with bounded lines: a file with no newline (or one enormous line) is a located
error row for its scenario, read in bounded memory, and the other scenarios of the run still run."""

from __future__ import annotations

import json
import tracemalloc

from callreplay.runner import RunOptions, run_all
from callreplay.testing import INBOUND_SID, business, inbound_call, scenario_from_dict

STEPS = [
    {"at": 0, "webhook": "incoming_call",
     "params": {"CallSid": INBOUND_SID, "From": "+972501234567", "To": "+97231234567", "Direction": "inbound"}},
    {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
    {"at": 0.84, "call": INBOUND_SID, "ws": {"media": {"recording": "call.jsonl"}}},
    {"at": 5, "call": INBOUND_SID, "ws": "stop"},
]


def test_a_recording_without_newlines_is_a_located_error_and_the_others_run(tmp_path):
    folder = tmp_path / "scenarios"
    (folder / "bad").mkdir(parents=True)
    with open(folder / "bad" / "call.jsonl", "wb") as fh:  # 64 MiB, one line, nothing but 'x'
        chunk = b"x" * (1 << 20)
        for _ in range(64):
            fh.write(chunk)
    scenario_from_dict({"name": "no-newline", "businesses": [business()], "steps": STEPS}, folder / "bad")
    scenario_from_dict({"name": "good", "businesses": [business()], "steps": inbound_call(talk="3s")}, folder)
    tracemalloc.start()
    try:
        outcomes = run_all([folder], RunOptions(report_dir=tmp_path / "reports", profiles=["fixed"]))
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    by_name = {o.scenario: o for o in outcomes}
    assert by_name["good"].status == "pass"
    bad = by_name["no-newline"]
    assert bad.status == "error" and "call.jsonl" in bad.error and "longer than" in bad.error, bad.error
    assert peak_mb < 32, f"the run allocated {peak_mb:.0f} MB at its peak (the file is 64 MiB)"
    written = json.loads((tmp_path / "reports" / "run.json").read_text())
    assert {r["scenario"] for r in written["results"]} == {"good", "no-newline"}
