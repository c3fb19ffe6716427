"""Model code never reads the wall clock: time comes from the virtual clock (freezegun is only a backstop)."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "callreplay"
WALL_CLOCK = re.compile(r"(?<!`)\btime\.(time|monotonic|perf_counter|sleep)\(|datetime\.(now|utcnow|today)\(|date\.today\(")
# The appointment block reads datetime.now(tz) on purpose (spec §4.2 step 6); freezegun holds it at virtual time.
ALLOWED = {("pipeline/prompts.py", "datetime.now(")}


def test_model_and_engine_do_not_read_the_wall_clock():
    offenders = []
    for folder in ("pipeline", "audio", "detectors", "scenario"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            rel = str(path.relative_to(PACKAGE))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                m = WALL_CLOCK.search(line)
                if m and (rel, m.group(0)) not in ALLOWED:
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    for name in ("replay.py", "feeds.py", "scheduler.py", "clock.py", "trace.py"):
        for n, line in enumerate((PACKAGE / name).read_text(encoding="utf-8").splitlines(), 1):
            if WALL_CLOCK.search(line):
                offenders.append(f"{name}:{n}: {line.strip()}")
    assert offenders == []


def test_appointment_date_follows_virtual_time(tmp_path):
    from callreplay.replay import replay
    from callreplay.testing import business, inbound_call, scenario_from_dict

    scenario = scenario_from_dict({
        "name": "appointment", "clock": {"start": "2026-03-05T23:59:59.500+02:00", "timezone": "Asia/Jerusalem"},
        "pipeline": {"prebuild_latency": "3s"},
        "businesses": [business(settings={"call_goal": "appointment", "enable_calendar_scheduling": True})],
        "steps": inbound_call(talk="5s")}, tmp_path)
    result = replay(scenario, "fixed")
    built = [e.data["text"] for e in result.trace.events if e.kind == "prompt.built" and e.data["path"] == "rebuild"]
    assert built and "Today is Friday 06/03/2026." in built[0]
