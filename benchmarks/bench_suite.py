"""Suite benchmark: replay 200 generated scenarios (mixed directions, 1-30 minute calls) and print throughput.

Scenarios are generated with a fixed seed, written to a temporary folder and replayed with the
same runner ``callreplay run`` uses (detectors and result files included, HTML off), once in one
process and once with ``--jobs 0`` (one process per core).
Run: python benchmarks/bench_suite.py [COUNT]
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's callreplay, not an installed one

import yaml

from callreplay.detectors.base import Severity
from callreplay.runner import RunOptions, run_all


def generate(folder: Path, count: int, seed: int = 20260108) -> int:
    rng = random.Random(seed)
    total_minutes = 0
    for n in range(count):
        outbound = rng.random() < 0.4
        minutes = rng.randint(1, 30)
        total_minutes += minutes
        sid = f"CA{n:032x}"
        ai = "" if rng.random() < 0.2 else "אתה נציג שירות של {{business_name}}. עזור ללקוח."
        out = "" if rng.random() < 0.2 else "אתה מתקשר מטעם {{business_name}} להציע שירות חדש."
        business = {"id": 1, "name": f"Biz {n}", "phone": "+97231234567", "greeting": "שלום",
                    "settings": {"ai_prompt": ai, "outbound_ai_prompt": out}}
        if outbound:
            hook = {"at": 0, "webhook": "outbound_call", "params": {"CallSid": sid, "To": "+972501234567",
                                                                    "From": "+97231234567"},
                    "query": {"business_id": 1, "lead_id": n, "lead_name": "Dana"}}
        else:
            hook = {"at": 0, "webhook": "incoming_call",
                    "params": {"CallSid": sid, "From": "+972501234567", "To": "+97231234567", "Direction": "inbound"}}
        steps = [hook, {"at": 0.8, "call": sid, "ws": "start"},
                 {"at": 0.84, "call": sid, "ws": {"media": [{"speech": {"duration": "4s", "rms": 1500}},
                                                          {"silence": "3s"}]}, "for": f"{minutes}m"},
                 {"at": minutes * 60 + 1, "call": sid, "ws": "stop"}]
        data = {"name": f"generated-{n:03d}", "businesses": [business], "steps": steps,
                "pipeline": {"max_realtime_seconds_per_call": "40m"}}
        (folder / f"s{n:03d}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return total_minutes


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    folder = Path(tempfile.mkdtemp())
    minutes = generate(folder / "scenarios" if (folder / "scenarios").mkdir() is None else folder, count)
    print(f"cores: {os.cpu_count()}")
    print(f"{count} scenarios x 2 profiles (legacy, fixed) = {count * 2} replays, {minutes * 2} virtual call-minutes")
    for jobs in (1, 0):
        options = RunOptions(profiles=["legacy", "fixed"], fail_on=Severity.ERROR,
                             report_dir=folder / f"reports-{jobs}", jobs=jobs)
        started = time.perf_counter()
        outcomes = run_all([folder / "scenarios"], options)
        elapsed = time.perf_counter() - started
        label = "1 process" if jobs == 1 else f"--jobs 0 ({os.cpu_count()} processes)"
        print(f"{label:24} total {elapsed:6.2f} s  ->  {count / elapsed:4.1f} scenarios/s, "
              f"{len(outcomes) / elapsed:4.1f} replays/s, {minutes * 2 / elapsed:4.0f} virtual minutes per second")


if __name__ == "__main__":
    main()
