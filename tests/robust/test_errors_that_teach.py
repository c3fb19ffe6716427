"""Errors that teach: every mistake of a file in one run, the key named, the allowed ones listed, the closest suggested;
and the schema and the loader agree on every shipped and documented example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callreplay.errors import ScenarioError
from callreplay.scenario.load import load_scenario
from callreplay.scenario.schema import schema_errors
from callreplay.scenario.yamlsafe import load_with_lines

from .helpers import HEAD, REPO, cli, write

TYPOS = HEAD + """\
  - {at: 1s, call: CA1, ws: start}
  - {at: 2s, call: CA1, ws: {media: {speech: {duration: 2s, rmss: 1500}}}}
  - {at: 3s, call: CA1, ws: {meda: {silence: 1s}}}
  - {at: 4s, call: CA1, ws: stop, repat: 2}
"""


def test_three_typos_are_reported_in_one_run_with_suggestions(tmp_path):
    path = write(tmp_path, "t.yaml", TYPOS)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    lines = info.value.all_lines()
    assert lines == [
        f"{path}:6 steps[2].ws.media.speech.rmss: unknown key 'rmss'; did you mean 'rms'? "
        "(expected one of: duration, rms, seed)",
        f"{path}:7 steps[3].ws.meda: unknown key 'meda'; did you mean 'media'? "
        "(expected one of: close, connected, dtmf, mark, media, start, stop)",
        f"{path}:8 steps[4].repat: unknown key 'repat'; did you mean 'repeat'? (expected one of: at, cache, call, "
        "echo, faults, for, headers, http, method, note, params, probe, query, realtime, repeat, settings, webhook, "
        "ws)",
    ]


def test_validate_prints_every_error_of_the_file(tmp_path):
    path = write(tmp_path, "t.yaml", TYPOS)
    done = cli("validate", str(path))
    assert done.returncode == 2
    assert [line.split()[2].rstrip(":") for line in done.stderr.splitlines()] == [
        "steps[2].ws.media.speech.rmss", "steps[3].ws.meda", "steps[4].repat"]


def test_an_either_or_branch_names_the_shapes_it_accepts(tmp_path):
    path = write(tmp_path, "s.yaml", HEAD + "  - {at: 1s, call: CA1, ws: 5}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "see the JSON Schema" not in str(info.value)
    assert "connected | start | stop | close" in str(info.value)
    assert "a raw Twilio message {event: ...}" in str(info.value)


@pytest.mark.parametrize("typo, suggestion", [("lgacy", "legacy"), ("fixd", "fixed")])
def test_unknown_profile_suggests_the_closest(tmp_path, typo, suggestion):
    path = write(tmp_path, "p.yaml", HEAD + f"expect:\n  {typo}: clean\n")
    with pytest.raises(ScenarioError, match=f"unknown profile '{typo}'; did you mean '{suggestion}'"):
        load_scenario(path)


def test_unknown_detector_and_webhook_suggest_the_closest(tmp_path):
    with pytest.raises(ScenarioError, match="did you mean 'missing-prompt'"):
        load_scenario(write(tmp_path, "d.yaml", HEAD + "detectors: {missing-promt: off}\n"))
    with pytest.raises(ScenarioError, match="did you mean 'incoming_call'"):
        load_scenario(write(tmp_path, "w.yaml", HEAD.replace("webhook: incoming_call", "webhook: incomng_call")))


def test_bare_mark_is_refused_by_the_schema_and_the_loader_alike(tmp_path):
    text = HEAD + "  - {at: 1s, call: CA1, ws: start}\n  - {at: 2s, call: CA1, ws: mark}\n"
    data, lines = load_with_lines(text, "m.yaml")
    assert schema_errors(data, lines, "m.yaml")
    with pytest.raises(ScenarioError):
        load_scenario(write(tmp_path, "m.yaml", text))


def _documented_examples() -> list[tuple[str, str]]:
    examples = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            if re.search(r"^steps:", block, re.M):
                examples.append((f"{doc.name}#{i}", block))
    return examples


SHIPPED = sorted((REPO / "scenarios").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_schema_and_loader_agree_on_every_shipped_scenario(path: Path):
    data, lines = load_with_lines(path.read_text(encoding="utf-8"), str(path))
    assert schema_errors(data, lines, str(path)) == []
    load_scenario(path)


@pytest.mark.parametrize("name, text", _documented_examples(), ids=lambda v: v if "#" in str(v) else "")
def test_schema_and_loader_agree_on_every_documented_example(tmp_path, name, text):
    data, lines = load_with_lines(text, name)
    assert [str(e) for e in schema_errors(data, lines, name)] == []
    load_scenario(write(tmp_path, "example.yaml", text))


def test_there_are_documented_examples():
    assert _documented_examples()
