"""Audio-path benchmark: a 2-hour inbound call through the whole pipeline (issue 6).

Prints frames per second, the multiple of real time and peak memory for:
  * the fast path, production config (SIMPLE_MODE on, echo gate skipped);
  * the fast path with the echo gate on (simple_mode: false);
  * the reference (per-frame) implementation on a shorter call, and the fast/reference ratio;
  * a 360,000-frame recorded JSON-Lines file, streamed.
Each measurement runs in a fresh subprocess (so peak RSS is its own), warms up with a small replay, and reports
the median of five replays. Run: python benchmarks/bench_audio.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import gc, json, resource, sys, tempfile, time
from pathlib import Path
sys.path[:0] = [{here!r}, {root!r}]  # this checkout's callreplay, not an installed one
from _scenarios import long_inbound_call, recorded_call
from callreplay.testing import scenario_from_dict
from callreplay.replay import replay
kind, hours, simple, impl, runs = {args!r}
folder = Path(tempfile.mkdtemp())
# warm-up: imports and freezegun's module scan happen once per process, not per frame
replay(scenario_from_dict(long_inbound_call(0.01), folder, "warm.yaml"), "fixed", audio_impl=impl)
data = recorded_call(folder, int(hours * 180000)) if kind == "recording" else long_inbound_call(hours, simple_mode=simple)
scenario = scenario_from_dict(data, folder)
times = []
result = None
for _ in range(runs):
    result = None  # one replay in memory at a time (a replay's objects form cycles: collect them)
    gc.collect()
    started = time.perf_counter()
    result = replay(scenario, "fixed", audio_impl=impl)
    times.append(time.perf_counter() - started)
frames = sum(e.data["counters"]["rx"] for e in result.trace.events if e.kind == "call.ended")
print(json.dumps({{"frames": frames, "seconds": sorted(times)[len(times) // 2], "all": times,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(kind: str, hours: float, simple: bool, impl: str = "fast", runs: int = 5) -> dict:
    """Median of ``runs`` replays in one fresh process, after a small warm-up replay."""
    code = CHILD.format(here=str(HERE), root=str(HERE.parent), args=(kind, hours, simple, impl, runs))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(label: str, m: dict) -> str:
    fps = m["frames"] / m["seconds"]
    return (f"{label:46} {m['frames']:>8,} frames  {m['seconds']:6.2f} s  {fps:>10,.0f} frames/s  "
            f"{fps / 50:>7,.0f}x real time  peak {m['peak_mb']:.0f} MB")


READER = r"""
import base64, json, sys, tempfile, time
from pathlib import Path
sys.path[:0] = [{here!r}, {root!r}]
from _scenarios import recorded_call
from callreplay.recording import recording_chunks
folder = Path(tempfile.mkdtemp())
recorded_call(folder, {frames!r})
path = folder / "recording.jsonl"

def stdlib():  # the reference: one json.loads and one b64decode per line, as before issue 16
    frames = []
    with open(path, "rb") as fh:
        for line in fh:
            msg = json.loads(line)
            frames.append(base64.b64decode(msg["media"]["payload"], validate=True))
    return len(frames)

def fast():
    return sum(len(batch) for batch in recording_chunks(path, 0, where="bench"))

out = {{}}
for name, fn in (("stdlib", stdlib), ("fast", fast)):
    times = []
    for _ in range(3):
        started = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - started)
    out[name] = n / sorted(times)[1]
print(json.dumps(out))
"""


def reader_rates(frames: int) -> dict:
    """Frames/s of the recording reader alone and of the stdlib per-line reader, median of 3, same process."""
    code = READER.format(here=str(HERE), root=str(HERE.parent), frames=frames)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"cores: {os.cpu_count()}  (one replay uses one core)")
    fast = measure("synthetic", 2.0, True)
    print(line("2 h call, fast path, simple mode (production)", fast))
    gate = measure("synthetic", 2.0, False)
    print(line("2 h call, fast path, echo gate on", gate))
    ref = measure("synthetic", 0.25, True, "reference")
    fast_short = measure("synthetic", 0.25, True)
    print(line("15 min call, reference implementation", ref))
    print(line("15 min call, fast path", fast_short))
    ratio = (fast_short["frames"] / fast_short["seconds"]) / (ref["frames"] / ref["seconds"])
    print(f"{'speed ratio fast/reference (same run)':46} {ratio:.1f}x")
    rec = measure("recording", 2.0, True, runs=1)
    print(line("360,000-frame recorded JSON-Lines, streamed", rec))
    rates = reader_rates(360_000)
    print(f"{'reading the recording alone: orjson + chunked':46} {rates['fast']:>10,.0f} frames/s; reference "
          f"(stdlib json.loads + b64decode per line, same run) {rates['stdlib']:,.0f} frames/s "
          f"({rates['fast'] / rates['stdlib']:.1f}x)")


if __name__ == "__main__":
    main()
