"""Probe steps: the loader's located errors, typed fields from an answer, the command path, and side effects
judged from the wire (a stream parameter) on a hand-made live trace."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from callreplay.detectors import run_detectors
from callreplay.errors import ScenarioError
from callreplay.live.cli_options import probe_commands
from callreplay.live.probe import run_probe
from callreplay.live.recorder import LiveRecorder
from callreplay.probes import ProbeError, substitute, typed_fields
from callreplay.scenario.load import parse_scenario
from callreplay.scenario.model import BusinessSpec, ProbeStep, Scenario
from callreplay.trace import Trace, TraceEvent

SID = "CA" + "d" * 32
HEAD = f"""name: probes
steps:
  - {{at: 0s, webhook: incoming_call, params: {{CallSid: {SID}, From: "+972501", To: "+972502"}}}}
"""


def load(step: str):
    return parse_scenario(HEAD + "  - " + step + "\n", Path("probes.yaml"))


def test_a_probe_step_loads_with_its_defaults():
    [_, probe] = load(f'{{at: 2s, call: {SID}, probe: {{http: "/calls/{{call_sid}}", fields: {{status: a.b}}}}}}').steps
    assert isinstance(probe, ProbeStep) and probe.action == "probe"
    assert (probe.http, probe.command, probe.fields, probe.timeout_us) == ("/calls/{call_sid}", None, {"status": "a.b"},
                                                                           5_000_000)


@pytest.mark.parametrize("step, message", [
    ("{at: 1s, probe: {http: /x}}", "a probe step needs 'call'"),
    (f"{{at: 1s, call: {SID}, probe: {{}}}}", "exactly one of http, command; found none"),
    (f'{{at: 1s, call: {SID}, probe: {{http: "/c/{{sid}}"}}}}', "unknown placeholder {sid}"),
    (f"{{at: 1s, call: {SID}, probe: {{http: //evil.example/x}}}}", "steps[1].probe.http"),
    (f"{{at: 1s, call: {SID}, probe: {{command: 'rm -rf /'}}}}", "steps[1].probe.command"),
    (f"{{at: 1s, call: {SID}, probe: {{command: db, timeout: 31s}}}}", "out of range"),
    (f"{{at: 1s, call: {SID}, probe: {{command: db, fields: {{colour: x}}}}}}", "unknown key 'colour'"),
    ("{at: 1s, call: CA9, probe: {command: db}}", "step for unknown call 'CA9'"),
])
def test_bad_probe_steps_are_located_errors(step, message):
    with pytest.raises(ScenarioError) as error:
        load(step)
    assert message in str(error.value) and "probes.yaml:4" in str(error.value)


def test_typed_fields_read_dotted_paths_one_row_lists_and_business_ids_as_numbers():
    row = [{"dir": "outbound-api", "call": {"status": "in-progress"}, "tenant": "7", "leads": [{"tenant_id": 8}]}]
    assert typed_fields(row, {"direction": "dir", "status": "call.status", "business": "tenant",
                              "lead_business": "leads.0.tenant_id"}) == {
        "direction": "outbound-api", "status": "in-progress", "business": 7, "lead_business": 8}
    assert typed_fields({"direction": {"nested": 1}, "status": None}) == {}  # nothing typed is guessed


def test_substituted_values_must_be_plain_ids():
    assert substitute("sid='{call_sid}' and b={business}", {"call_sid": SID, "business": "7"}) == f"sid='{SID}' and b=7"
    with pytest.raises(ProbeError, match="not a plain id"):
        substitute("sid='{call_sid}'", {"call_sid": "x' or '1'='1"})
    with pytest.raises(ProbeError, match="has no value"):
        substitute("{business}", {"business": None})


def test_probe_commands_come_from_the_command_line_only_and_are_checked():
    assert probe_commands(("db=sqlite3 -json app.db 'select * from calls where sid=\"{call_sid}\"'",)) == {
        "db": ("sqlite3", "-json", "app.db", 'select * from calls where sid="{call_sid}"')}
    for bad in ("no-equals", "bad name=ls", "db=", "db='unclosed"):
        with pytest.raises(click.BadParameter):
            probe_commands((bad,))


def probe_with(commands: dict[str, tuple[str, ...]], step: ProbeStep) -> list[tuple[str, dict]]:
    rec = LiveRecorder()
    replay = SimpleNamespace(recorder=rec, calls={}, expected_business={SID: 7},
                             session=SimpleNamespace(options=SimpleNamespace(probe_commands=commands)))
    asyncio.run(run_probe(replay, step))  # type: ignore[arg-type]
    return [(kind, data) for _, _, _, kind, data in rec._rows]


def command_step(name: str, timeout_us: int = 5_000_000) -> ProbeStep:
    return ProbeStep(index=1, at_us=0, line=4, path="steps[1]", call=SID, command=name, timeout_us=timeout_us)


def test_a_configured_command_runs_without_a_shell_with_the_call_substituted():
    printer = (sys.executable, "-c", "import json,sys; print(json.dumps([{'direction': sys.argv[1], 'sid': sys.argv[2],"
               " 'business_id': int(sys.argv[3])}]))", "outbound-api", "{call_sid}", "{business}")
    [(kind, data)] = probe_with({"db": printer}, command_step("db"))
    assert kind == "probe.result" and (data["via"], data["target"], data["found"]) == ("command", "db", True)
    assert (data["direction"], data["business"]) == ("outbound-api", 7) and SID in data["raw"]


@pytest.mark.parametrize("commands, timeout_us, reason", [
    ({}, 5_000_000, "not-configured"),
    ({"db": (sys.executable, "-c", "import time; time.sleep(10)")}, 300_000, "timeout"),
    ({"db": (sys.executable, "-c", "import sys; sys.exit('no such table')")}, 5_000_000, "exit-status"),
    ({"db": (sys.executable, "-c", "print('not json')")}, 5_000_000, "not-json"),
    ({"db": ("/nonexistent/probe-tool",)}, 5_000_000, "cannot-start"),
])
def test_a_probe_that_cannot_read_the_state_is_a_failed_event_not_a_traceback(commands, timeout_us, reason):
    [(kind, data)] = probe_with(commands, command_step("db", timeout_us))
    assert (kind, data["reason"]) == ("probe.failed", reason) and data["message"]


def test_empty_output_means_no_record():
    [(kind, data)] = probe_with({"db": (sys.executable, "-c", "pass")}, command_step("db"))
    assert (kind, data["found"]) == ("probe.result", False)


def live_trace(business_parameter: str) -> SimpleNamespace:
    events = [(0, None, "replay.start", {"mode": "live"}),
              (1, SID, "call.business_expected", {"business_id": 5, "direction": "inbound"}),
              (2, SID, "twiml.verb", {"verb": "ConnectStream",
                                      "parameters": {"business_id": business_parameter, "direction": "inbound"}})]
    trace = Trace([TraceEvent(i, t, call, "replay", kind, data) for i, (t, call, kind, data) in enumerate(events)])
    scenario = Scenario(name="t", file=Path("t.yaml"), businesses=(BusinessSpec(3, "A", "+1"), BusinessSpec(5, "B", "+2")))
    return SimpleNamespace(scenario=scenario, trace=trace)


def test_a_stream_parameter_naming_another_business_is_tenant_contamination_live():
    [finding] = [f for f in run_detectors(live_trace("3")) if f.detector == "tenant-contamination"]  # type: ignore[arg-type]
    assert finding.details["side_effects"] == [{"what": "stream parameter", "business": "3"}]
    assert not [f for f in run_detectors(live_trace("5")) if f.detector == "tenant-contamination"]  # type: ignore[arg-type]
