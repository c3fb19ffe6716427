import numpy as np

from callreplay.audio.mulaw import DECODE_TABLE, decode, encode, frame_rms, payload_rms


def _spec_formula(code: int) -> int:
    byte = ~code & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (mantissa << (exponent + 3)) + (0x84 << exponent) - 0x84
    return -magnitude if sign else magnitude


def test_decode_table_matches_audioop_for_all_codes(audioop):
    expected = np.frombuffer(audioop.ulaw2lin(bytes(range(256)), 2), dtype=np.int16)
    assert DECODE_TABLE.dtype == np.int16
    assert np.array_equal(DECODE_TABLE, expected)


def test_decode_table_matches_spec_formula():
    assert DECODE_TABLE.tolist() == [_spec_formula(code) for code in range(256)]


def test_decode_accepts_bytes_and_arrays():
    assert np.array_equal(decode(b"\xff\x00"), decode(np.array([255, 0], dtype=np.uint8)))


def test_encode_round_trips_every_decoded_value():
    codes = np.arange(256, dtype=np.uint8)
    round_trip = encode(DECODE_TABLE)
    same = round_trip == codes
    # 0x7F decodes to 0 as well ("negative zero"); the encoder writes 0xFF for zero
    assert np.flatnonzero(~same).tolist() == [0x7F]


def test_encode_clips_and_keeps_sign():
    assert encode(np.array([32767, -32768, 0], dtype=np.int16)).tolist() == [0x80, 0x00, 0xFF]


def test_frame_rms_equals_audioop_on_random_frames(audioop):
    rng = np.random.default_rng(7)
    frames = rng.integers(0, 256, size=(300, 160), dtype=np.uint8)
    quiet = rng.choice(np.array([0xFF, 0xFE, 0x7E, 0xFD], dtype=np.uint8), size=(100, 160))
    frames = np.vstack([frames, quiet])
    expected = [audioop.rms(decode(frame).tobytes(), 2) for frame in frames]
    assert frame_rms(frames).tolist() == expected


def test_payload_rms_handles_irregular_lengths(audioop):
    rng = np.random.default_rng(3)
    payloads = [rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in (160, 1, 0, 80, 333)]
    expected = [audioop.rms(decode(p).tobytes(), 2) if p else 0 for p in payloads]
    assert payload_rms(payloads).tolist() == expected
