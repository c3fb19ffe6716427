"""The fast recording reader decodes exactly what the per-line stdlib reader decoded, errors included."""

import base64
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callreplay.errors import ScenarioError
from callreplay.recording import decode_frames, recording_chunks


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=160, max_size=160), min_size=1, max_size=20))
def test_one_decode_per_chunk_equals_one_per_frame(frames):
    b64 = [base64.b64encode(f).decode() for f in frames]
    decoded = decode_frames(b64)
    assert decoded is not None and [row.tobytes() for row in decoded] == frames


@pytest.mark.parametrize("bad", ["A" * 216, "*" + "A" * 213 + "==", "A" * 215 + "=", "AAAA", ""])
def test_strings_that_are_not_160_byte_frames_fall_back(bad):
    good = base64.b64encode(bytes(range(160))).decode()
    assert decode_frames([good, bad]) is None


def _line(i: int, payload: str) -> str:
    return json.dumps({"event": "media", "sequenceNumber": str(i + 1), "streamSid": "MZ1",
                       "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20),
                                 "payload": payload}})


def _read(path):
    return list(recording_chunks(path, 1_000_000, where="steps[2].ws.media", chunk=4))


def test_frames_and_columns_across_chunks(tmp_path):
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, 160, dtype=np.uint8).tobytes() for _ in range(10)]
    odd = b"\xff" * 80  # an irregular payload keeps the per-frame path for its chunk
    payloads = [*frames[:5], odd, *frames[5:]]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(_line(i, base64.b64encode(p).decode()) for i, p in enumerate(payloads)) + "\n")
    batches = _read(path)
    assert [len(b) for b in batches] == [4, 4, 3]
    got = [b.payload_bytes(i) for b in batches for i in range(len(b))]
    assert got == payloads
    assert [int(t) for b in batches for t in b.arrival_us] == [1_000_000 + i * 20_000 for i in range(11)]
    assert batches[1].payload is None and batches[0].payload is not None


def test_the_first_bad_line_is_named_even_when_a_later_line_is_worse(tmp_path):
    good = base64.b64encode(bytes(160)).decode()
    bad = "!" + good[1:]  # 216 characters, not base64
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([_line(0, good), _line(1, bad), "{not json"]) + "\n")
    with pytest.raises(ScenarioError, match="line 2 of r.jsonl is not a readable media message"):
        _read(path)


def test_lines_orjson_refuses_are_read_as_the_stdlib_reads_them(tmp_path):
    good = base64.b64encode(bytes(160)).decode()
    odd = '{"event": "media", "note": "\\ud800", "big": 123456789012345678901234567890, "x": NaN, ' \
          f'"sequenceNumber": "1", "media": {{"timestamp": "0", "payload": "{good}"}}}}'
    path = tmp_path / "r.jsonl"
    path.write_text(odd + "\n")
    (batch,) = _read(path)
    assert batch.payload_bytes(0) == bytes(160)
