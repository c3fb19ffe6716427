"""Live state probes against the example bridge: what the server stored, read through its state endpoint.

The healthy bridge stores a final, correctly directed record under the dialled business, so
direction-unknown, call-not-finalized and tenant-contamination stay silent; each of the bridge's
state switches makes its detector fire, with the probe's answer as evidence.
"""

from __future__ import annotations

import json

import pytest
from helpers import LiveRuns, exec_bridge, findings

pytestmark = pytest.mark.live

STATE = ("inbound-state-probe.yaml", "outbound-state-probe.yaml")
INBOUND, OUTBOUND = "bridge-inbound-state-probe", "bridge-outbound-state-probe"
STATE_DETECTORS = ("direction-unknown", "call-not-finalized", "tenant-contamination")
CALLBACKS = ("late", "missing", "out-of-order")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every run of this module, started together (three at a time) in the order the tests read them. The
    three callback scenarios are the same REST-created call, which one REST emulator could not tell apart:
    one run each."""
    started = LiveRuns(tmp_path_factory.mktemp("state"), {
        "healthy": lambda tmp: exec_bridge(tmp, *STATE, extra=("--concurrency", "4")),
        "switches": lambda tmp: exec_bridge(tmp, *STATE, bugs="lost-final-status,foreign-tenant,raw-direction",
                                            extra=("--concurrency", "4")),
        **{name: (lambda tmp, name=name: exec_bridge(tmp, f"outbound-callback-{name}.yaml")) for name in CALLBACKS},
        "tools": lambda tmp: exec_bridge(tmp, "tenant-tools.yaml"),
        "foreign-tools": lambda tmp: exec_bridge(tmp, "tenant-tools.yaml", bugs="foreign-tools"),
    })
    yield started
    started.close()


def probes(folder, name: str) -> list[dict]:
    trace = (folder / "reports" / "traces" / f"{name}--live.jsonl").read_text().splitlines()
    return [json.loads(line) for line in trace if json.loads(line)["kind"].startswith("probe.")]


def test_the_healthy_bridge_stores_a_final_record_under_the_dialled_business(runs):
    code, results, output = runs["healthy"]
    folder = runs.folders["healthy"]
    assert code == 0, output
    assert all(not results[name]["findings"] for name in (INBOUND, OUTBOUND)), output
    [inbound] = probes(folder, INBOUND)
    assert inbound["kind"] == "probe.result" and inbound["data"]["via"] == "http"
    assert {k: inbound["data"][k] for k in ("http_status", "direction", "status", "business", "call_log_business",
                                            "lead_business")} == {"http_status": 200, "direction": "inbound",
                                                                  "status": "completed", "business": 12,
                                                                  "call_log_business": 12, "lead_business": 12}
    assert json.loads(inbound["data"]["raw"])["call_sid"] == "CA12a12a12a12a12a12a12a12a12a12a12"
    [outbound] = probes(folder, OUTBOUND)
    assert (outbound["data"]["direction"], outbound["data"]["status"]) == ("outbound", "completed")


def test_each_state_switch_is_caught_from_the_stored_record(runs):
    code, results, output = runs["switches"]
    assert code == 1, output
    inbound, outbound = results[INBOUND], results[OUTBOUND]
    # lost-final-status: the completed callback reached the bridge and was dropped; the record says in progress
    for result, stored in ((inbound, "ringing"), (outbound, "in-progress")):
        [final] = findings(result, "call-not-finalized")
        assert final["details"]["status"] == stored and "completed" in final["details"]["statuses"]
        assert "was not applied" in final["message"]
    # foreign-tenant: the inbound call's log and lead, and the outbound call's log, under business 11
    [tenant] = findings(inbound, "tenant-contamination")
    assert tenant["business_id"] == 12 and tenant["details"]["side_effects"] == [
        {"what": "the call log", "business": 11}, {"what": "the lead", "business": 11}]
    assert [e["label"] for e in tenant["evidence"]] == ["dialled", "side-effect", "side-effect"]
    assert findings(outbound, "tenant-contamination")[-1]["details"]["side_effects"] == [
        {"what": "the call log", "business": 11}]
    # raw-direction: outbound-api on the wire (the stream parameter) and in the record
    [raw] = findings(outbound, "direction-unknown")
    assert raw["details"]["values"] == {"stream-parameter": "outbound-api", "stored": "outbound-api"}
    assert not findings(inbound, "direction-unknown")


def test_scripted_status_callbacks_late_is_silent_and_missing_is_caught(runs):
    # status_callbacks: on the http step shapes the REST emulator's automatic callbacks of the call it creates
    results = {}
    for name in CALLBACKS:
        code, run_results, output = runs[name]
        assert code == 0, output  # all meet their expectations: late and out of order are clean, missing is caught
        results.update(run_results)
    late, missing = results["bridge-outbound-callback-late"], results["bridge-outbound-callback-missing"]
    assert late["findings"] == []
    [final] = findings(missing, "call-not-finalized")
    assert final["details"]["status"] == "in-progress"
    assert final["details"]["statuses"] == ["initiated", "ringing", "in-progress"]
    assert "no terminal status callback reached it" in final["message"]
    assert [e["label"] for e in final["evidence"]][-1] == "scripted"
    [delayed] = [p for p in probes(runs.folders["late"], "bridge-outbound-callback-late") if p["kind"] == "probe.result"]
    assert delayed["data"]["status"] == "completed"  # the late callback arrived before the probe read the record
    # out of order: in-progress was held back until after completed, and the final status stood
    assert results["bridge-outbound-callback-out-of-order"]["findings"] == []
    [reordered] = [p for p in probes(runs.folders["out-of-order"], "bridge-outbound-callback-out-of-order")
                   if p["kind"] == "probe.result"]
    stored = json.loads(reordered["data"]["raw"])
    assert stored["statuses"][-2:] == ["completed", "in-progress"] and reordered["data"]["status"] == "completed"


def test_foreign_tools_offer_the_dialled_business_another_tenants_booking(runs):
    code, results, output = runs["tools"]
    assert code == 0 and results["bridge-tenant-tools"]["findings"] == [], output
    code, results, output = runs["foreign-tools"]
    assert code == 1, output
    [tenant] = findings(results["bridge-tenant-tools"], "tenant-contamination")
    assert tenant["call"] == "CA12d12d12d12d12d12d12d12d12d12d12"  # Galil Optics; Hadar Vets' own call is clean
    assert tenant["details"]["side_effects"] == [{"what": "tools", "business": 11}]
    problems = tenant["evidence"][-1]["data"]["problems"]
    assert problems[0].startswith("appointment tools check_availability, schedule_appointment although business 12")
    assert "names Hadar Vets" in problems[1]
