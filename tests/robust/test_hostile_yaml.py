"""Each crash class of issue 14 with a minimal input: a located one-line error, never a traceback."""

from __future__ import annotations

import pytest

from callreplay.errors import ScenarioError
from callreplay.scenario.load import load_scenario

from .helpers import GOOD, HEAD, is_located, write

CASES = {
    "deep nesting": ("name: " + "[" * 1000 + "]" * 1000 + "\nsteps: []\n", "nested more than"),
    "self-referencing alias": ("name: x\nsteps: &a [*a]\n", "alias refers to a value that contains it"),
    "self-referencing merge": ("name: x\nsteps: []\nclock: &c {<<: *c}\n", "not valid YAML|contains it"),
    "mixed key types": ("name: x\nsteps: []\n1: a\nb: 2\n", "unknown key '1'"),
    "infinite duration": (HEAD + "  - {at: .inf, call: CA1, ws: connected}\n", "not a finite duration"),
    "nan duration": (HEAD + "  - {at: .nan, call: CA1, ws: connected}\n", "not a finite duration"),
    "huge at": (HEAD + "  - {at: 1.0e+12, call: CA1, ws: connected}\n", "longer than 100000h"),
    "overflowing at": (HEAD + "  - {at: 1.0e+30, call: CA1, ws: connected}\n", "longer than 100000h"),
    "negative at": (HEAD + "  - {at: -5, call: CA1, ws: connected}\n", "-5 is not a duration"),
    "tag-only document": ("!!int\n", "cannot read value"),
    "tag-only float": ("!!float\n", "cannot read value"),
    "python tag as key": ("name: x\nsteps: []\n? !!python/name:os.system\n: 1\n", "tag .* is not allowed"),
    "python tag on a sequence": ("name: x\nsteps: !!python/object/apply:os.system [ls]\n", "not allowed"),
    "python tag on a mapping": ("name: x\nsteps: []\nclock: !!python/object:os.stat {}\n", "not allowed"),
    "huge integer": ("name: x\nseed: " + "9" * 5000 + "\nsteps: []\n", "an integer of 5000"),
    "lone surrogate": ('name: "a\\ud800"\nsteps: []\n', "lone surrogate"),
    "control character": ("name: x\x01\nsteps: []\n", "U\\+0001 is not allowed"),
    "raw start with a mapping call id": (HEAD + "  - {at: 1s, call: CA1, ws: {event: start, start: {callSid: {a: 1}}}}\n",
                                          "callSid"),
    "raw start with listed parameters": (HEAD + "  - {at: 1s, call: CA1, ws: {event: start, start: "
                                         "{customParameters: [1]}}}\n", "customParameters"),
    "raw media with a numeric payload": (HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                                         "  - {at: 2s, call: CA1, ws: {event: media, media: {payload: 5}}}\n",
                                         "payload"),
    "stop before start": (HEAD + "  - {at: 1s, call: CA1, ws: stop}\n", "stop for call 'CA1' before its 'start'"),
    "expectation for an unknown call": (GOOD + "expect:\n  fixed:\n    - {finding: missing-prompt, call: CA9}\n",
                                        "no step creates the call 'CA9'"),
    "1000 hours of audio": (HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                            "  - {at: 2s, call: CA1, ws: {media: {silence: 1s}}, for: 1000h}\n", "more than the limit"),
    "a billion repeats": (HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                          "  - {at: 2s, call: CA1, ws: {media: {silence: 1s}}, repeat: 1000000000}\n",
                          "more than the limit"),
    "1000 hours of silence": (HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                              "  - {at: 2s, call: CA1, ws: {media: {silence: 1000h}}}\n", "more than the limit"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_a_located_error(tmp_path, name):
    text, match = CASES[name]
    path = write(tmp_path, "s.yaml", text)
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenario(path)
    assert is_located(str(info.value)), str(info.value)
    assert str(info.value).startswith(str(path) + ":")


def test_merge_key_override_is_valid(tmp_path):
    path = write(tmp_path, "m.yaml", GOOD.replace("  - {at: 800ms, call: CA1, ws: connected}\n",
                                                  "  - <<: *hook\n    at: 500ms\n    params: {CallSid: CA2}\n"
                                                  "  - {at: 800ms, call: CA1, ws: connected}\n"))
    scenario = load_scenario(path)
    assert [s.at_us for s in scenario.steps][:2] == [0, 500_000]
    assert scenario.steps[1].params == {"CallSid": "CA2"}


def test_duplicate_own_keys_stay_an_error_next_to_a_merge(tmp_path):
    path = write(tmp_path, "d.yaml", HEAD + "  - <<: *hook\n    at: 1s\n    at: 2s\n")
    with pytest.raises(ScenarioError, match="duplicate key 'at'"):
        load_scenario(path)


def test_limits_can_be_raised_per_scenario(tmp_path):
    body = HEAD + ("  - {at: 1s, call: CA1, ws: start}\n"
                   "  - {at: 2s, call: CA1, ws: {media: {silence: 1s}}, for: 30h}\n")
    with pytest.raises(ScenarioError, match="limit"):
        load_scenario(write(tmp_path, "a.yaml", body))
    scenario = load_scenario(write(tmp_path, "b.yaml", body + "limits: {media_step: 31h}\n"))
    assert scenario.limits.media_step_us == 31 * 3600 * 10**6


def test_evidence_with_mixed_keys_is_written(tmp_path):
    from callreplay.runner import RunOptions, run_all

    write(tmp_path, "e.yaml", GOOD + "evidence: {1: a, b: {2: c}}\n")
    outcomes = run_all([tmp_path], RunOptions(report_dir=tmp_path / "out"))
    assert [o.status for o in outcomes] == ["pass"]
    assert (tmp_path / "out" / "run.json").is_file()


def test_a_wav_format_run_would_reject_is_an_error_at_validate(tmp_path):
    import wave

    with wave.open(str(tmp_path / "a.wav"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(1), out.setframerate(8000)   # 8-bit PCM: libsndfile reads it
        out.writeframes(b"\x80" * 800)
    load_scenario(write(tmp_path, "w.yaml", HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                        "  - {at: 2s, call: CA1, ws: {media: {file: a.wav}}}\n"))
    (tmp_path / "b.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(ScenarioError, match=r"b.yaml:6 steps\[2\].ws.media.file: audio file 'b.wav': "):
        load_scenario(write(tmp_path, "b.yaml", HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                            "  - {at: 2s, call: CA1, ws: {media: {file: b.wav}}}\n"))


def test_a_raw_message_with_an_overflowing_sequence_number_is_refused(tmp_path):
    text = HEAD + ("  - {at: 1s, call: CA1, ws: start}\n"
                   "  - {at: 2s, call: CA1, ws: {event: media, sequenceNumber: '" + "9" * 40 + "', "
                   "media: {payload: ''}}}\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:6 steps\[2\].ws.sequenceNumber"):
        load_scenario(write(tmp_path, "s.yaml", text))
