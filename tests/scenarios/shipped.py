"""Shared, cached replays of the shipped scenarios (each (file, profile) replays once per test session)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from callreplay.detectors import run_detectors
from callreplay.replay import replay
from callreplay.scenario.load import discover_scenarios, load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
FILES = discover_scenarios([SCENARIOS])


def rel(path: Path) -> str:
    return str(Path(path).resolve().relative_to(SCENARIOS))


@cache
def scenario(name: str):
    """A shipped scenario by its path under scenarios/ (e.g. ``incident/incident-raised-limit.yaml``)."""
    return load_scenario(SCENARIOS / name)


@cache
def replayed(name: str, profile: str):
    """(ReplayResult, findings) of a shipped scenario under a profile, replayed once per test session."""
    result = replay(scenario(name), profile)
    return result, run_detectors(result)
