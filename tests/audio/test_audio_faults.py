import numpy as np
import pytest

from callreplay.audio import FrameBatch
from callreplay.audio.faults import apply_faults
from callreplay.audio.sources import speech


def _batch(n=100):
    return FrameBatch.paced(speech(n * 20_000, 1500, seed=0), start_us=5_000_000)


def _same(a, b):
    return (np.array_equal(a.payload, b.payload) and np.array_equal(a.arrival_us, b.arrival_us)
            and np.array_equal(a.seq, b.seq))


def test_same_seed_gives_the_same_stream():
    spec = {"drop": 0.1, "duplicate": 0.1, "reorder": 0.2, "jitter": "5ms"}
    assert _same(apply_faults(_batch(), spec, seed=3), apply_faults(_batch(), spec, seed=3))
    assert not _same(apply_faults(_batch(), spec, seed=3), apply_faults(_batch(), spec, seed=4))


def test_drop_fraction_and_count():
    assert len(apply_faults(_batch(), {"drop": 0.25}, seed=1)) == 75
    kept = apply_faults(_batch(), {"drop": 7}, seed=1)
    assert len(kept) == 93
    assert np.all(np.diff(kept.seq) > 0)


def test_duplicate_resends_with_the_same_sequence_number():
    out = apply_faults(_batch(), {"duplicate": 0.1}, seed=1)
    assert len(out) == 110
    repeats = np.flatnonzero(np.diff(out.seq) == 0)
    assert len(repeats) == 10
    assert all(out.payload_bytes(i) == out.payload_bytes(i + 1) for i in repeats)


def test_reorder_swaps_adjacent_frames_and_keeps_times():
    batch = _batch()
    out = apply_faults(batch, {"reorder": 0.2}, seed=2)
    assert np.array_equal(out.arrival_us, batch.arrival_us)
    swapped = np.flatnonzero(out.seq != batch.seq)
    assert len(swapped) == 20
    assert sorted(out.seq.tolist()) == batch.seq.tolist()


def test_jitter_keeps_arrival_order_sortable():
    out = apply_faults(_batch(), {"jitter": "15ms"}, seed=5)
    assert np.all(np.diff(out.arrival_us) >= 0)
    assert np.max(np.abs(np.sort(out.arrival_us) - np.sort(_batch().arrival_us))) <= 30_000


def test_gap_delays_later_frames_and_loses_none():
    batch = _batch()
    out = apply_faults(batch, {"gap": {"at": "200ms", "duration": "100ms"}}, seed=0)
    assert len(out) == len(batch) and np.array_equal(out.seq, batch.seq)
    start = 5_000_000
    assert not np.any((out.arrival_us >= start + 180_001) & (out.arrival_us < start + 300_000))
    assert out.arrival_us[10] == start + 200_000 + 100_000
    assert np.all(np.diff(out.arrival_us) > 0)


@pytest.mark.parametrize("spec, message", [
    ({"lose": 0.1}, "unknown fault 'lose' (valid: drop, duplicate, reorder, jitter, gap, stall)"),
    ({"drop": 1.5}, "fault 'drop' must be a fraction between 0 and 1, got 1.5"),
    ({"gap": 3}, "fault 'gap' must be a mapping with 'at' and 'duration', got 3"),
])
def test_bad_fault_specs_raise_value_error(spec, message):
    with pytest.raises(ValueError) as error:
        apply_faults(_batch(), spec, seed=0)
    assert str(error.value) == message
