"""A broken scenario gets one clear line: file, line, YAML path, what was wrong, what was expected."""

import textwrap

import pytest

from callreplay.errors import ScenarioError
from callreplay.scenario.load import load_scenario

HEADER = """\
name: t
businesses:
  - {id: 1, name: B, phone: "+97231234567", settings: {ai_prompt: a, outbound_ai_prompt: b}}
steps:
  - at: 0s
    webhook: incoming_call
    params: {CallSid: CA1, From: "+972501234567", To: "+97231234567"}
"""

REST_SID = "CA" + "12e" * 10 + "12"  # a call an http step makes the app create through the REST API
CASES = [
    # (body appended to HEADER, expected message)
    ("  - {at: 1s, call: CA1, ws: start, colour: red}\n",
     "s.yaml:8 steps[1].colour: unknown key 'colour' (expected one of: at, cache, call, echo, faults, for, "
     "headers, http, method, note, params, probe, query, realtime, repeat, settings, webhook, ws)"),
    ("  - {at: five seconds, call: CA1, ws: start}\n",
     "s.yaml:8 steps[1].at: \"five seconds\" is not a duration (expected a duration such as 250ms, 1.5s, 10m, 2h, "
     "1h30m or a number of seconds)"),
    ("  - {at: 1s, call: CA9, ws: start}\n",
     "s.yaml:8 steps[1].call: step for unknown call 'CA9' (expected a CallSid introduced by a webhook step's "
     "params.CallSid (known: CA1))"),
    ("  - {at: 1s, call: CA1, ws: {media: {silence: 1s}}}\n",
     "s.yaml:8 steps[1].ws: media for call 'CA1' before its 'start' (expected a ws start step earlier than the "
     "first media step)"),
    ("  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: {media: {file: ../../etc/passwd}}}\n",
     "points outside the scenario's folder"),
    ("  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: {media: {file: missing.wav}}}\n",
     "s.yaml:9 steps[2].ws.media.file: audio file 'missing.wav' does not exist (expected a WAV file next to the "
     "scenario)"),
    ("  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: {media: {hum: 1s}}}\n",
     "s.yaml:9 steps[2].ws.media.hum: unknown key 'hum' (expected one of: file, music, noise, payloads, recording, "
     "silence, speech, tone)"),
    ("  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: {media: {noise: {duration: 1s, zcr: 1.5}}}}\n",
     "s.yaml:9 steps[2].ws.media.noise.zcr: "),
    ("  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: {media: {silence: 1s}}, echo: {delay: 3s}}\n",
     "s.yaml:9 steps[2].echo.delay: an echo delay of 3.00s is longer than the line keeps (expected at most 2.00s)"),
    ("  - {at: 1s, call: CA1, ws: start, echo: {delay: 100ms}}\n",
     "s.yaml:8 steps[1]: faults/repeat/for do not apply to 'start'"),
    ("  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: {media: {silence: 1s}}, "
     "faults: {stall: {at: 1s}}}\n",
     "s.yaml:9 steps[2].faults.stall: "),
    ("  - {at: 1s, call: CA1, ws: wave}\n",
     "s.yaml:8 steps[1].ws: found \"wave\""),
    ("  - {at: 1s, webhook: /webhook/nope}\n",
     "s.yaml:8 steps[1].webhook: unknown webhook '/webhook/nope'"),
    ("  - {at: 1s, call: CA1, ws: start, webhook: incoming_call}\n",
     "s.yaml:8 steps[1]: a step needs exactly one action, found webhook, ws"),
    ("  - {at: 1s, settings: {business: 5, set: {ai_prompt: x}}}\n",
     "s.yaml:8 steps[1].settings.business: unknown business 5 (expected one of the ids under 'businesses')"),
    ("  - {at: 1s, call: CA1, ws: start, faults: {drop: 2}}\n",
     "s.yaml:8 steps[1]: faults/repeat/for do not apply to 'start'"),
    ("pipeline: {prompt_cache_ttl: forever}\n",
     "s.yaml:8 pipeline.prompt_cache_ttl: \"forever\" is not a duration"),
    ("pipeline: {cache_size: 3}\n",
     "s.yaml:8 pipeline.cache_size: unknown key 'cache_size' (expected one of: auto_response_duration, "),
    ("expect: {nightly: clean}\n",
     "s.yaml:8 expect.nightly: unknown profile 'nightly'"),
    ("expect: {legacy: [{finding: direction-contamnation}]}\n",
     "s.yaml:8 expect.legacy[0].finding: unknown detector 'direction-contamnation'; "
     "did you mean 'direction-contamination'? (expected one of: "),
    ("detectors: {prompt-outlived: off}\n",
     "s.yaml:8 detectors.prompt-outlived: unknown detector 'prompt-outlived'"),
    ("clock: {start: '2026-01-08T10:00:00'}\n",
     "s.yaml:8 clock.start: '2026-01-08T10:00:00' has no UTC offset"),
    ("  - {at: 1s, http: {path: /calls, status_callbacks: {drop: [completed]}}}\n",
     "s.yaml:8 steps[1].http.status_callbacks: status_callbacks needs creates_call"),
    (f"  - {{at: 1s, http: {{path: /calls, creates_call: {REST_SID}, status_callbacks: {{drop: [in-progress]}}}}}}\n",
     's.yaml:8 steps[1].http.status_callbacks.drop[0]: found "in-progress" (expected one of: initiated, ringing, '
     "answered, completed)"),
    (f"  - {{at: 1s, http: {{path: /calls, creates_call: {REST_SID}, status_callbacks: "
     "{drop: [answered], out_of_order: [answered]}}}\n",
     "s.yaml:8 steps[1].http.status_callbacks.out_of_order: 'answered' is both dropped and held back"),
    (f"  - {{at: 1s, http: {{path: /calls, creates_call: {REST_SID}, status_callbacks: {{delay: {{completed: 2m}}}}}}}}\n",
     "s.yaml:8 steps[1].http.status_callbacks.delay.completed: delay 2m00.0s is out of range"),
]


@pytest.mark.parametrize("body,expected", CASES)
def test_error_names_file_line_path_and_expectation(tmp_path, body, expected):
    path = tmp_path / "s.yaml"
    path.write_text(HEADER + body if body.startswith("  ") else HEADER + body, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert expected in str(info.value)
    assert str(info.value).startswith(str(path))


def test_duplicate_keys_are_refused(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("name: a\nname: b\nsteps: []\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"d.yaml:2: duplicate key 'name'"):
        load_scenario(path)


def test_python_tags_are_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo hi']\nsteps: []\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="p.yaml:1"):
        load_scenario(path)


def test_alias_bomb_is_bounded(tmp_path, monkeypatch):
    import callreplay.scenario.yamlsafe as ys

    monkeypatch.setattr(ys, "MAX_NODES", 1000)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 6):
        lines.append(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="too many values"):
        load_scenario(path)


def test_phone_numbers_stay_strings(tmp_path):
    path = tmp_path / "n.yaml"
    path.write_text(textwrap.dedent("""\
        name: n
        businesses: [{id: 1, name: B, phone: +97231234567}]
        steps:
          - {at: 0, webhook: incoming_call, params: {CallSid: CA1, From: 0501234567, To: +97231234567}}
        """), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.businesses[0].phone == "+97231234567"
    assert scenario.steps[0].params == {"CallSid": "CA1", "From": "0501234567", "To": "+97231234567"}


def test_not_utf8_and_empty_files(tmp_path):
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ScenarioError, match="the file is empty"):
        load_scenario(empty)


def test_steps_sort_by_time_and_keep_file_order_on_ties(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text(HEADER + "  - {at: 0s, cache: clear}\n  - {at: 0s, cache: {invalidate: {business: 1}}}\n",
                    encoding="utf-8")
    scenario = load_scenario(path)
    assert [s.index for s in scenario.steps] == [0, 1, 2]
