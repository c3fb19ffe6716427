"""Malformed captures, logs and exports: clear located errors or bounded work, never a traceback."""

from __future__ import annotations

import json
import resource
import time

import pytest
from click.testing import CliRunner

from callreplay.capture.capture_file import read_capture
from callreplay.capture.cli import import_group
from callreplay.capture.importers.from_capture import import_capture
from callreplay.capture.importers.from_logs import import_logs
from callreplay.capture.importers.from_twilio_calls import import_twilio_calls
from callreplay.errors import ImportFormatError

from .helpers import write_capture

SID = "CA" + "3c" * 16


def _records(path):
    reader = read_capture(path)
    return reader, list(reader)


def test_truncated_last_line_is_reported_and_everything_before_kept(tmp_path):
    path = tmp_path / "c.jsonl"
    write_capture(path, SID, seconds=0.2)
    full = path.read_bytes()
    path.write_bytes(full + b'{"t_us": 99999999, "type": "ws.in", "text": "{\\"event\\":\\"me')
    reader, records = _records(path)
    lines = full.count(b"\n")
    assert len(records) == lines - 1
    assert reader.problems == [f"{path}:{lines + 1}: truncated or garbled last line ignored "
                               f"(no newline, not valid JSON (Unterminated string starting at at column 45)); "
                               f"the {len(records)} records before it are kept"]


@pytest.mark.parametrize(("content", "line", "what"), [
    (b'{"type":"capture","version":1,"call_sid":null,"started_at":"2026-01-08T08:00:00+00:00"}\n'
     b'{"t_us": 1, "type": "ws.in", "text": "x"}\n{not json}\n{"t_us": 3, "type": "ws.close"}\n',
     3, "not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
    (b'{"type":"capture","version":1,"call_sid":null,"started_at":"2026-01-08T08:00:00+00:00"}\n'
     b'\xff\xfe\x80garbage\n{"t_us": 3, "type": "ws.close"}\n', 2, "the line is not UTF-8 text"),
    (b'{"type":"capture","version":1,"call_sid":null,"started_at":"2026-01-08T08:00:00+00:00"}\n'
     b'{"t_us": -5, "type": "ws.close"}\n{"t_us": 3, "type": "ws.close"}\n', 2, "t_us is -5"),
    (b"", 1, "the file is empty"),
    (b"hello\x00\x01\x02binary", 1, "binary data (NUL bytes)"),
    (b'{"a": 1}\n', 1, "the first line is not a capture header"),
])
def test_bad_capture_lines_name_file_and_line(tmp_path, content, line, what):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError) as info:
        reader = read_capture(path)
        list(reader)
    assert str(info.value).startswith(f"{path}:{line}: {what}")


def test_one_gigabyte_sparse_file_fails_fast_with_bounded_memory(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as f:
        f.truncate(1 << 30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ImportFormatError, match=r"huge.jsonl:1: binary data \(NUL bytes\)"):
        import_capture([path], tmp_path / "o" / "x.yaml")
    with pytest.raises(ImportFormatError, match=r"huge.jsonl:1: binary data \(NUL bytes\)"):
        import_logs([path], tmp_path / "o" / "y.yaml")
    assert time.perf_counter() - started < 5
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 200_000  # at most one capped line in memory, never the whole gigabyte


def test_cli_prints_one_error_line_and_exits_2(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"type":"capture","version":1,"call_sid":null,"started_at":"2026-01-08T08:00:00+00:00"}\n'
                    '[1, 2]\n{"t_us": 1, "type": "ws.close"}\n')
    result = CliRunner().invoke(import_group, ["capture", str(path), "-o", str(tmp_path / "o" / "x.yaml")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:2: a JSON list (expected a JSON object)\n"
    assert "Traceback" not in result.output


def test_csv_with_missing_columns(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("Call Sid,From,To\nCA" + "1" * 32 + ",+972501234567,+97231234567\n")
    result = CliRunner().invoke(import_group, ["twilio-calls", str(path), "-o", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {path}:1: missing column(s) Direction, Status, Start Time, End Time, Duration "
                             "(expected the Twilio export columns Call Sid, From, To, Direction, Status, Start Time, "
                             "End Time, Duration)\n")


def test_csv_with_a_bad_date_names_the_row(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("Call Sid,From,To,Direction,Status,Start Time,End Time,Duration\n"
                    f"CA{'1' * 32},+972501234567,+97231234567,inbound,completed,yesterday,,60\n")
    with pytest.raises(ImportFormatError, match=r"calls.csv:2: 'yesterday' is not a date Twilio writes"):
        import_twilio_calls([path], tmp_path / "s.yaml")


def test_log_with_only_unmatched_lines_is_an_error_naming_the_counts(tmp_path):
    path = tmp_path / "app.log"
    path.write_text("just some text\nanother line\n")
    with pytest.raises(ImportFormatError, match=r"app.log: no call found in 2 lines \(2 matched nothing\)"):
        import_logs([path], tmp_path / "s.yaml")


def test_capture_error_records_are_reported(tmp_path):
    path = tmp_path / "c.jsonl"
    write_capture(path, SID, seconds=0.1)
    with path.open("a") as f:
        f.write(json.dumps({"t_us": 9_000_000, "type": "error", "what": "http: target failed",
                            "detail": "ClientConnectorError: refused"}) + "\n")
    report = import_capture([path], tmp_path / "o" / "x.yaml")
    assert any("recorded error: http: target failed: ClientConnectorError: refused" in p for p in report.problems)
