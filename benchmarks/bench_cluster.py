"""Cluster benchmark: the generated suite of bench_suite.py on a Dask LocalCluster of 1 and of 2 workers.

Prints the wall time of each, the efficiency per worker from 1 to 2 workers (T1 / (2 * T2); 1.0 is perfect
scaling), and, as the reference from the same run, the same suite replayed in this process. Each worker is
a separate process with one thread, on 127.0.0.1. Needs ``pip install 'callreplay[dask]'``.
Run: python benchmarks/bench_cluster.py [COUNT] [RUNS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's callreplay, not an installed one

from distributed import LocalCluster

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_suite import generate  # noqa: E402

from callreplay.detectors.base import Severity  # noqa: E402
from callreplay.runner import RunOptions, run_all  # noqa: E402


def timed(folder: Path, executor: str, out: Path) -> float:
    options = RunOptions(profiles=["legacy", "fixed"], fail_on=Severity.ERROR, report_dir=out, executor=executor)
    started = time.perf_counter()
    run_all([folder], options)
    return time.perf_counter() - started


def on_cluster(folder: Path, workers: int, out: Path, runs: int) -> list[float]:
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        address = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        timed(folder, address, out / "warm")  # imports and freezegun's first module scan on every worker
        return [timed(folder, address, out / f"w{workers}-{i}") for i in range(runs)]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    root = Path(tempfile.mkdtemp())
    (root / "scenarios").mkdir()
    minutes = generate(root / "scenarios", count)
    print(f"cores: {os.cpu_count()}")
    print(f"{count} scenarios x 2 profiles = {count * 2} replays, {minutes * 2} virtual call-minutes; "
          f"median of {runs} runs")
    local = [timed(root / "scenarios", "local", root / f"local-{i}") for i in range(runs)]
    one = on_cluster(root / "scenarios", 1, root, runs)
    two = on_cluster(root / "scenarios", 2, root, runs)
    for label, times in (("reference: this process", local), ("LocalCluster, 1 worker", one),
                         ("LocalCluster, 2 workers", two)):
        median = statistics.median(times)
        print(f"{label:26} {median:6.2f} s (runs {min(times):.2f}-{max(times):.2f})  "
              f"{minutes * 2 / median:6.0f} call-minutes/s")
    efficiency = statistics.median(one) / (2 * statistics.median(two))
    print(f"efficiency per worker, 1 -> 2 workers: {efficiency:.2f} (goal >= 0.9; {os.cpu_count()} cores shared)")


if __name__ == "__main__":
    main()
