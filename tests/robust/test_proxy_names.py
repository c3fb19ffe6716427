"""The recording proxy names capture files safely: no path tricks, no name the file system refuses."""

from __future__ import annotations

from callreplay.capture.proxy import MAX_NAME_CHARS, CaptureSession, _file_key
from callreplay.capture.redact import Redactor


def test_a_300_character_call_sid_gets_a_short_distinct_file(tmp_path):
    session = CaptureSession(tmp_path, Redactor(frozenset()))
    long_a, long_b = "CA" + "a" * 300, "CA" + "a" * 299 + "b"
    for sid in (long_a, long_b):
        session.record(sid, 0, "ws.open", path="/ws")
        session.close_call(sid)
    names = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert len(names) == 2 and all(len(n) <= MAX_NAME_CHARS + len(".jsonl") for n in names)


def test_path_characters_never_leave_the_folder():
    assert _file_key("../../etc/passwd") == "_.._etc_passwd"
    assert "/" not in _file_key("a/b") and _file_key("") == "_unbound" and _file_key(None) == "_unbound"
    assert _file_key("CA" + "0" * 32) == "CA" + "0" * 32
