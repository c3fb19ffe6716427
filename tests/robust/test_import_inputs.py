"""Importer inputs are never modified, side YAML files get the scenario loader's protections, user regexes are bounded."""

from __future__ import annotations

import csv
import time

import pytest

from callreplay.capture.importers.from_logs import import_logs
from callreplay.capture.importers.from_twilio_calls import import_twilio_calls
from callreplay.errors import ImportFormatError

LOG = "2026-01-08 10:00:00,002 INFO routes_twilio: [WEBHOOK] incoming_call CallSid=CA" + "1" * 32 + \
      " From=+972501234567 To=+97231234567 Direction=inbound\n"


def _export(path, duration="120"):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Call Sid", "From", "To", "Direction", "Status", "Start Time", "End Time", "Duration"])
        writer.writerow(["CA" + "a1" * 16, "+972501234567", "+97231234567", "inbound", "completed",
                         "2026-01-08 10:00:00 +0200", "2026-01-08 10:02:00 +0200", duration])
    return path


def test_force_with_out_naming_the_businesses_file_never_overwrites_it(tmp_path):
    businesses = tmp_path / "b.yaml"
    businesses.write_text("- {id: 1, name: A, phone: '+97231234567'}\n", encoding="utf-8")
    before = businesses.read_bytes()
    with pytest.raises(ImportFormatError, match="the output is one of the inputs"):
        import_twilio_calls([_export(tmp_path / "c.csv")], businesses, businesses=businesses, force=True)
    assert businesses.read_bytes() == before


def test_force_with_out_naming_the_format_file_never_overwrites_it(tmp_path):
    fmt = tmp_path / "f.yaml"
    fmt.write_text("timestamp: {regex: '^(?P<timestamp>\\S+ \\S+) ', format: '%Y-%m-%d %H:%M:%S,%f'}\n"
                   "events: {webhook_params: 'CallSid=(?P<call_sid>CA\\w+) From=(?P<from>\\S+) To=(?P<to>\\S+)'}\n",
                   encoding="utf-8")
    before = fmt.read_bytes()
    log = tmp_path / "app.log"
    log.write_text(LOG, encoding="utf-8")
    with pytest.raises(ImportFormatError, match="the output is one of the inputs"):
        import_logs([log], fmt, fmt=str(fmt), force=True)
    assert fmt.read_bytes() == before


@pytest.mark.parametrize("text, match", [
    ("a: &a [*a]\n", "alias refers to a value that contains it"),
    ("- !!python/object/apply:os.system [ls]\n", "not allowed"),
    ("- {id: 1, id: 2}\n", "duplicate key 'id'"),
])
def test_a_businesses_file_is_loaded_like_a_scenario(tmp_path, text, match):
    businesses = tmp_path / "b.yaml"
    businesses.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFormatError, match=match) as info:
        import_twilio_calls([_export(tmp_path / "c.csv")], tmp_path / "out.yaml", businesses=businesses)
    assert str(info.value).startswith(f"{businesses}:")


def test_a_catastrophic_user_regex_is_stopped_with_a_located_error(tmp_path):
    fmt = tmp_path / "slow.yaml"
    fmt.write_text("timestamp: {regex: '^(?P<timestamp>\\S+) '}\nevents: {hang: '^(a|aa)+$'}\n", encoding="utf-8")
    log = tmp_path / "app.log"
    log.write_text("2026-01-08T10:00:00 " + "a" * 30 + "!\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ImportFormatError, match=r"app.log:1: the regex events.hang took more than"):
        import_logs([log], tmp_path / "out.yaml", fmt=str(fmt))
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("duration", ["inf", "nan", "1e400", "-5", "9" * 30])
def test_a_duration_out_of_range_is_a_located_error(tmp_path, duration):
    export = _export(tmp_path / "c.csv", duration)
    with pytest.raises(ImportFormatError, match=r"c.csv:2: Duration is"):
        import_twilio_calls([export], tmp_path / "out.yaml")


def test_a_log_timestamp_in_year_9999_is_a_located_error(tmp_path):
    log = tmp_path / "app.log"
    log.write_text(LOG.replace("2026-01-08", "9999-12-31"), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"app.log:1: the timestamp .* is out of range"):
        import_logs([log], tmp_path / "out.yaml")


def test_capture_lines_with_wrong_types_are_located_errors(tmp_path):
    from callreplay.capture.importers.from_capture import import_capture

    capture = tmp_path / "c.jsonl"
    capture.write_text('{"type":"capture","version":1,"call_sid":"CA1","started_at":"2026-01-08T08:00:00+00:00"}\n'
                       '{"t_us":0,"type":"http.request","method":"POST","path":"/webhook/incoming_call","query":true}\n',
                       encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"c.jsonl:2: http.request field 'query' is bool"):
        import_capture([capture], tmp_path / "out.yaml")
    capture.write_text('{"type":"capture","version":1,"call_sid":"CA1","started_at":"2026-01-08T08:00:00+00:00"}\n'
                       '{"t_us":99999999999999999999,"type":"ws.open"}\n', encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"c.jsonl:2: t_us is"):
        import_capture([capture], tmp_path / "out.yaml")


def test_an_overflowing_sequence_number_in_a_capture_is_a_located_error(tmp_path):
    import json

    from callreplay.capture.importers.from_capture import import_capture

    start = {"event": "start", "sequenceNumber": "1", "start": {"callSid": "CA1", "customParameters": {"To": "+1"}}}
    media = {"event": "media", "sequenceNumber": "9" * 24, "media": {"payload": ""}}
    lines = [{"type": "capture", "version": 1, "call_sid": "CA1", "started_at": "2026-01-08T08:00:00+00:00"},
             {"t_us": 0, "type": "http.request", "method": "POST", "path": "/webhook/incoming_call",
              "form": {"CallSid": "CA1", "To": "+1"}},
             {"t_us": 1, "type": "ws.in", "text": json.dumps(start)},
             {"t_us": 2, "type": "ws.in", "text": json.dumps(media)}]
    capture = tmp_path / "c.jsonl"
    capture.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    with pytest.raises(ImportFormatError, match=r"c.jsonl:4: sequenceNumber has 24 characters"):
        import_capture([capture], tmp_path / "out.yaml")
