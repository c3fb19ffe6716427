"""Mutation check: every deliberately broken profile is caught by some detector on some shipped scenario.

A mutant is *caught* when, on a shipped scenario, it yields a finding (detector, call) that its base
profile -- the built-in it was derived from (``based_on``) -- does not. To stay fast, each mutant tries first the
scenarios that name it in ``expect``, then the others from the shortest (virtual time) up, and stops
at the first scenario that catches it; base replays are cached. The table mutant -> scenario ->
detector is printed (``pytest -s`` not needed) and is the README's list.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from callreplay.detectors import run_detectors
from callreplay.pipeline.profiles import BUILTINS, MUTANTS
from callreplay.replay import replay
from callreplay.scenario.load import discover_scenarios, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FILES = discover_scenarios([SCENARIOS])
BUILTIN_NAMES = {p.name for p in BUILTINS}
MUTANT_BY_NAME = {m.name: m for m in MUTANTS}


@cache
def _scenario(path: Path):
    return load_scenario(path)


@cache
def _signature(path: Path, profile: str) -> frozenset[tuple[str, str | None]]:
    return frozenset((f.detector, f.call) for f in run_detectors(replay(_scenario(path), profile)))


def base_profile(mutant) -> str:
    """The built-in profile the mutant was derived from."""
    assert mutant.based_on in BUILTIN_NAMES, mutant
    return mutant.based_on


def candidates(mutant: str) -> list[Path]:
    def length(path: Path) -> int:
        steps = _scenario(path).steps
        return steps[-1].at_us if steps else 0
    named = [f for f in FILES if mutant in _scenario(f).expect]
    return named + sorted((f for f in FILES if f not in named), key=length)


def catch(mutant: str) -> tuple[str, str, list[tuple[str, str | None]]] | None:
    base = base_profile(MUTANT_BY_NAME[mutant])
    for path in candidates(mutant):
        new = sorted(_signature(path, mutant) - _signature(path, base), key=lambda x: (x[0], x[1] or ""))
        if new:
            return str(path.relative_to(SCENARIOS)), base, new
    return None


def test_mutant_list_covers_the_issue():
    assert set(MUTANT_BY_NAME) >= {
        "mutant-cache-key-no-direction", "mutant-cache-expiry-off-by-one", "mutant-cache-expiry-disabled",
        "mutant-registry-never-cleared", "mutant-direction-lock-removed", "mutant-default-direction-flipped",
        "mutant-fallback-order-reversed", "mutant-prebuild-wrong-call", "mutant-sender-ignores-session"}


def test_every_mutant_is_caught(capsys):
    rows, missed = [], []
    for mutant, profile in MUTANT_BY_NAME.items():
        caught = catch(mutant)
        if caught is None:
            missed.append(mutant)
            continue
        scenario, base, new = caught
        detectors = ", ".join(sorted({d for d, _ in new}))
        rows.append((mutant, base, scenario, detectors, profile.summary))
    widths = [max(len(r[i]) for r in rows + [("mutant", "base", "scenario", "caught by", "")]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(("mutant", "base", "scenario", "caught by"), widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) for r in rows]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert not missed, f"mutants no detector caught: {missed}"


@pytest.mark.parametrize("mutant", sorted(MUTANT_BY_NAME))
def test_scenarios_naming_a_mutant_expect_what_catches_it(mutant):
    """The scenario that names a mutant in ``expect`` is where the check finds it first."""
    named = [f for f in FILES if mutant in _scenario(f).expect]
    assert named, f"no shipped scenario names {mutant} in expect"
