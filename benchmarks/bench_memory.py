"""Memory benchmark: peak RSS of one long synthetic call (default 48 hours), streamed vs. built whole.

The call is bench_audio's (alternating 4 s speech / 2 s silence, a model turn every 30 s, the sender's
limits raised). Each replay runs in a fresh process; the reference from the same run is the same call with
the media step built whole (streaming switched off), as every step was before. Prints the core count.
Run: python benchmarks/bench_memory.py [HOURS]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path[:0] = [{here!r}, {root!r}]
from _scenarios import long_inbound_call
import callreplay.feeds as feeds
from callreplay.testing import scenario_from_dict
from callreplay.replay import replay
hours, streamed = {args!r}
if not streamed:
    feeds.STREAM_ABOVE_FRAMES = 10 ** 12
scenario = scenario_from_dict(long_inbound_call(hours), Path(tempfile.mkdtemp()))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
result = replay(scenario, "fixed")
seconds = time.perf_counter() - started
frames = sum(e.data["counters"]["rx"] for e in result.trace.events if e.kind == "call.ended")
print(json.dumps({{"frames": frames, "events": len(result.trace), "seconds": seconds, "loaded_mb": before,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(hours: float, streamed: bool) -> dict:
    code = CHILD.format(here=str(HERE), root=str(HERE.parent), args=(hours, streamed))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 48.0
    print(f"cores: {os.cpu_count()}  (one replay uses one core)")
    for label, streamed in (("streamed windows (now)", True), ("reference: media step built whole", False)):
        m = measure(hours, streamed)
        print(f"{hours:g} h call, {label:34} {m['frames']:>10,} frames {m['events']:>8,} trace events  "
              f"{m['seconds']:7.1f} s  peak {m['peak_mb']:6.0f} MB (scenario loaded: {m['loaded_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
