import base64
import hashlib
import json

import numpy as np
import pytest

from callreplay.audio import FrameBatch
from callreplay.audio.sources import payloads, silence


def _batch(n=4):
    frames = np.arange(n * 160, dtype=np.int64).reshape(n, 160).astype(np.uint8)
    return FrameBatch.paced(frames, start_us=1_000_000, first_seq=5, first_chunk=3, first_timestamp_ms=40)


def test_wire_messages_have_string_numbers_like_twilio():
    message = next(_batch().to_wire_messages("MZ" + "0" * 32))
    assert message == {
        "event": "media", "sequenceNumber": "5", "streamSid": "MZ" + "0" * 32,
        "media": {"track": "inbound", "chunk": "3", "timestamp": "40",
                  "payload": base64.b64encode(_batch().payload_bytes(0)).decode()},
    }
    json.dumps(message)


def test_recorded_b64_is_kept_verbatim():
    recorded = payloads([base64.b64encode(bytes([i]) * 160).decode() for i in range(3)])
    batch = FrameBatch.paced(recorded.raw, b64=recorded.b64)
    assert [batch.b64_at(i) for i in range(3)] == list(recorded.b64)
    assert batch.payload is not None


def test_irregular_payloads_keep_their_lengths():
    batch = FrameBatch.paced([b"\xff" * 160, b"\x00" * 7])
    assert batch.payload is None
    assert batch.payload_bytes(1) == b"\x00" * 7
    assert batch.rms().tolist()[0] == 0


def test_sha256_of_is_the_digest_of_concatenated_payloads():
    batch = _batch()
    expected = hashlib.sha256(batch.payload_bytes(2) + batch.payload_bytes(0)).hexdigest()
    assert batch.sha256_of([2, 0]) == expected


def test_slice_keeps_columns_together():
    part = _batch().slice(1, 3)
    assert len(part) == 2
    assert part.seq.tolist() == [6, 7]
    assert part.payload_bytes(0) == _batch().payload_bytes(1)


def test_rejects_columns_of_the_wrong_length():
    with pytest.raises(ValueError, match="seq must have 2 entries"):
        FrameBatch.build(silence(40_000), [0, 1], [1], [1, 2], [0, 20])


def test_a_paced_window_carries_the_rms_of_its_own_frames():
    from callreplay.audio.mulaw import frame_rms
    from callreplay.audio.sources import speech
    from callreplay.feeds import PacedPattern

    pattern = np.concatenate([speech(200_000, 1500, 7), silence(100_000)])
    paced = PacedPattern(pattern, 1_000, 0, 0, frame_rms(pattern))
    window = paced.window(37, 100)
    assert window.rms().tolist() == frame_rms(window.payload).tolist()
    assert not window.rms().flags.writeable


def test_with_rms_rejects_a_column_of_the_wrong_length():
    with pytest.raises(ValueError, match="rms must have 4 entries"):
        _batch().with_rms(np.zeros(3, dtype=np.int64))
