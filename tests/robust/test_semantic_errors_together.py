"""Mistakes the schema cannot see (a clock without offset, an unknown time zone, business, detector or
profile) are all reported in one run, each with its line and YAML path, as schema errors are."""

from __future__ import annotations

import pytest

from callreplay.errors import ScenarioError
from callreplay.scenario.load import load_scenario

FIVE_MISTAKES = """\
name: multi
clock: {start: "2026-01-08T10:00:00", timezone: Mars/Olympus}
businesses:
  - {id: 1, name: A, phone: "+97231234567"}
steps:
  - {at: 0s, webhook: incoming_call, params: {CallSid: CA1, To: "+97231234567", From: "+972501234567", Direction: inbound}}
  - {at: 1s, call: CA1, settings: {business: 9, set: {ai_prompt: x}}}
expect:
  nosuchprofile: clean
detectors:
  no-such-detector: off
"""


def test_five_independent_mistakes_in_one_run(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(FIVE_MISTAKES, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = caught.value.all_lines()
    assert [line.split(": ")[0].split(" ", 1)[1] for line in lines] == [
        "clock.start", "clock.timezone", "steps[1].settings.business", "detectors.no-such-detector",
        "expect.nosuchprofile"]
    assert all(line.startswith(f"{path}:") for line in lines)


def test_checks_of_the_whole_call_wait_until_every_step_is_right(tmp_path):
    """A broken webhook step would make every later step 'for unknown call': only the real mistake shows."""
    path = tmp_path / "w.yaml"
    path.write_text(FIVE_MISTAKES.replace("webhook: incoming_call", "webhook: no_such_hook")
                    .replace('"2026-01-08T10:00:00"', '"2026-01-08T10:00:00+02:00"')
                    .replace("timezone: Mars/Olympus", "timezone: UTC")
                    .replace("business: 9", "business: 1").replace("nosuchprofile", "fixed")
                    .replace("  no-such-detector: off\n", "  silent-call: off\n"), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = caught.value.all_lines()
    assert len(lines) == 1 and "steps[0].webhook" in lines[0] and "unknown webhook" in lines[0]
