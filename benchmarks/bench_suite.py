"""Suite benchmark: replay 200 generated scenarios (mixed directions, 1-30 minute calls) and print throughput.

Scenarios are generated with a fixed seed, written to a temporary folder and replayed with the
same runner ``callreplay run`` uses (detectors and result files included, HTML off).
Run: python benchmarks/bench_suite.py [COUNT]
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

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
    options = RunOptions(profiles=["legacy", "fixed"], fail_on=Severity.ERROR, report_dir=folder / "reports")
    started = time.perf_counter()
    outcomes = run_all([folder / "scenarios"], options)
    elapsed = time.perf_counter() - started
    print(f"cores: {os.cpu_count()}  (the runner uses one core)")
    print(f"{count} scenarios x 2 profiles = {len(outcomes)} replays, {minutes * 2} virtual call-minutes")
    print(f"total {elapsed:.2f} s  ->  {count / elapsed:.1f} scenarios/s, {len(outcomes) / elapsed:.1f} replays/s, "
          f"{minutes * 2 / elapsed:.0f} virtual minutes per second")


if __name__ == "__main__":
    main()
