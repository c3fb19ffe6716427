"""Every shipped scenario short enough for the wall clock, replayed in-process and live against
``callreplay serve`` under each built-in profile it names; prints the README's equivalence table.

    python benchmarks/live_equivalence.py [--parallel 3] [--max-wall 60]

A row is "same" when both runs give the same (detector, call, severity) set over the detectors that
can run on a live trace. Runs outside the test suite: about 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from callreplay.live.equivalence import compare_many
from callreplay.live.runner import scenario_wall_us
from callreplay.scenario.load import discover_scenarios, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BUILT_IN = ("legacy", "fixed", "hardened")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--max-wall", type=float, default=60.0)
    args = parser.parse_args()
    pairs = []
    for file in discover_scenarios([ROOT / "scenarios"]):
        scenario = load_scenario(file)
        if scenario_wall_us(scenario) > args.max_wall * 1e6:
            continue
        pairs += [(file, p) for p in scenario.profiles_to_run() if p in BUILT_IN]
    started = time.perf_counter()
    results = compare_many(pairs, parallel=args.parallel, cwd=ROOT)
    print(f"cores: {os.cpu_count()}; {len(results)} replays compared in {time.perf_counter() - started:.0f} s")
    print("| scenario | profile | wire findings (in-process) | live against serve |")
    print("|---|---|---|---|")
    for c in results:
        found = ", ".join(sorted({d for d, _, _ in c.in_process})) or "none"
        print(f"| `{c.scenario}` | {c.profile} | {found} | {'same' if c.equal else 'DIFFERENT: ' + str(sorted(c.live))} |")
    print(f"{sum(c.equal for c in results)} of {len(results)} the same")


if __name__ == "__main__":
    main()
