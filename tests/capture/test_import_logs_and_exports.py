"""Log and Twilio-export imports: the shipped incident log, a user format, a CSV export, the CLI."""

from __future__ import annotations

import csv as csv_module
from datetime import UTC
from pathlib import Path

import pytest
from click.testing import CliRunner

from callreplay.capture.cli import import_group
from callreplay.capture.importers.from_logs import import_logs
from callreplay.capture.importers.from_twilio_calls import parse_twilio_time
from callreplay.replay import replay
from callreplay.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[2]
INCIDENT_LOG = ROOT / "examples" / "logs" / "incident.log"
INCIDENT = ROOT / "scenarios" / "incident" / "incident-inbound-gets-outbound-prompt.yaml"


def _findings_or_facts(result) -> set[tuple]:
    try:
        from callreplay.detectors import run_detectors
    except ImportError:
        run_detectors = None
    if run_detectors is not None:
        return {(f.detector, f.call) for f in run_detectors(result)}
    return {(e.call, e.kind, e.data.get("source_field") or e.data.get("prompt_id"))
            for e in result.trace.of_kind("prompt.built", "realtime.session_update")}


def test_incident_log_replays_like_the_hand_written_incident(tmp_path):
    out = tmp_path / "s" / "incident-from-logs.yaml"
    report = import_logs([INCIDENT_LOG], out)
    assert report.unmatched_lines > 0
    imported = replay(load_scenario(out), "legacy")
    hand = replay(load_scenario(INCIDENT), "legacy")
    assert _findings_or_facts(imported) == _findings_or_facts(hand)
    built = imported.trace.of_kind("prompt.built")
    assert {e.data["source_field"] for e in built} == {"outbound_ai_prompt"}
    assert len({e.call for e in imported.trace.of_kind("realtime.session_update")}) == 3


def test_incident_log_import_keeps_redacted_evidence_and_assumptions(tmp_path):
    out = tmp_path / "s" / "inc.yaml"
    import_logs([INCIDENT_LOG], out)
    scenario = load_scenario(out)
    assert scenario.evidence["log_file"] == "inc.evidence.log"
    assert any("ai_prompt was empty" in a for a in scenario.evidence["assumptions"])
    assert scenario.businesses[0].settings["ai_prompt"] == ""
    assert "outbound" not in scenario.businesses[0].settings["outbound_ai_prompt"].lower()
    evidence = (out.parent / "inc.evidence.log").read_text(encoding="utf-8")
    assert "[PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id=7" in evidence
    for text in (evidence, out.read_text(encoding="utf-8")):
        assert "501234567" not in text and "31234567" not in text


def test_user_defined_log_format(tmp_path):
    fmt = tmp_path / "mylog.yaml"
    fmt.write_text(r"""
name: mylog
timestamp:
  regex: '^\[(?P<timestamp>[^\]]+)\] '
  timezone: UTC
events:
  webhook_params: 'call (?P<call_sid>CA\w+) rang from (?P<from>\S+) to (?P<to>\S+)'
  call_start: 'stream (?P<call_sid>CA\w+) started for business (?P<business_id>\d+) as (?P<direction>\w+)'
  prompt_fallback: 'prompt fallback (?P<used>outbound) for (?P<requested>inbound) business_id=(?P<business_id>\d+)'
  prompt_cache: 'cache (?P<result>HIT|MISS)'
  call_end: 'call (?P<call_sid>CA\w+) ended after (?P<duration>[\d.]+)s'
""", encoding="utf-8")
    sid = "CA" + "5e" * 16
    log = tmp_path / "app.log"
    log.write_text(f"""[2026-01-08T08:00:00+00:00] call {sid} rang from 0501234567 to 03-123-4567
[2026-01-08T08:00:00.050000+00:00] prompt fallback outbound for inbound business_id=3
[2026-01-08T08:00:00.500000+00:00] cache MISS
[2026-01-08T08:00:00.820000+00:00] stream {sid} started for business 3 as inbound
a line in no format at all
[2026-01-08T08:00:30+00:00] call {sid} ended after 29.2s
""", encoding="utf-8")
    out = tmp_path / "s" / "mine.yaml"
    report = import_logs([log], out, fmt=str(fmt))
    assert report.unmatched_lines == 1
    scenario = load_scenario(out)
    assert scenario.evidence["events"] == {"call_end": 1, "call_start": 1, "prompt_cache": 1, "prompt_fallback": 1,
                                           "webhook_params": 1}
    assert [b.id for b in scenario.businesses] == [3]
    webhook = scenario.steps[0]
    assert webhook.params["From"].startswith("+1555") and webhook.params["To"] == scenario.businesses[0].phone
    result = replay(scenario, "legacy")
    assert [e.data["source_field"] for e in result.trace.of_kind("prompt.built")][:1] == ["outbound_ai_prompt"]


@pytest.mark.parametrize(("text", "iso"), [
    ("2026-01-08 10:00:00 +0200", "2026-01-08T08:00:00+00:00"),
    ("2026-01-08T10:00:00+02:00", "2026-01-08T08:00:00+00:00"),
    ("Thu, 08 Jan 2026 08:00:00 +0000", "2026-01-08T08:00:00+00:00"),
    ("2026-01-08 08:00:00", "2026-01-08T08:00:00+00:00"),
])
def test_twilio_date_forms(text, iso):
    assert parse_twilio_time(text)[0].astimezone(UTC).isoformat() == iso


def test_twilio_calls_export_gives_one_skeleton_per_row(tmp_path):
    csv = tmp_path / "calls.csv"
    rows = [
        ("CA" + "a1" * 16, "+972501234567", "+97231234567", "inbound", "completed",
         "2026-01-08 10:00:00 +0200", "2026-01-08 10:02:00 +0200", "120", "x"),
        ("CA" + "b2" * 16, "+97231234567", "+972529876543", "outbound-api", "completed",
         "Thu, 08 Jan 2026 08:05:00 +0000", "Thu, 08 Jan 2026 08:06:00 +0000", "60", "y"),
        ("CA" + "c3" * 16, "+972501234567", "+97231234567", "inbound", "no-answer",
         "2026-01-08T10:07:00+02:00", "", "0", "z"),
    ]
    with csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["Call Sid", "From", "To", "Direction", "Status", "Start Time", "End Time", "Duration",
                         "Price"])
        writer.writerows(rows)
    out = tmp_path / "s" / "afternoon.yaml"
    result = CliRunner().invoke(import_group, ["twilio-calls", str(csv), "-o", str(out)])
    assert result.exit_code == 0, result.output
    scenario = load_scenario(out)
    webhooks = [s for s in scenario.steps if s.action == "webhook"]
    assert [w.route for w in webhooks] == ["incoming_call", "outbound_call", "incoming_call"]
    stops = [s for s in scenario.steps if getattr(s, "message", None) == "stop"]
    assert [s.at_us for s in stops] == [120_000_000, 360_000_000]
    text = out.read_text()
    assert "972501234567" not in text and "# TEMPLATE: fill in" in text
    replay(scenario, "legacy")


def test_every_command_has_help():
    runner = CliRunner()
    for args in (["--help"], ["capture", "--help"], ["logs", "--help"], ["twilio-calls", "--help"]):
        result = runner.invoke(import_group, args)
        assert result.exit_code == 0 and "Usage:" in result.output


def test_log_import_twice_is_identical(tmp_path):
    outs = []
    for run in ("a", "b"):
        out = tmp_path / run / "inc.yaml"
        import_logs([INCIDENT_LOG], out)
        outs.append({p.name: p.read_bytes() for p in sorted(out.parent.iterdir())})
    assert outs[0] == outs[1]
