"""Live mode's frame pacing: how late each 20 ms caller frame leaves, at 1, 50 and 200 concurrent calls.

    python benchmarks/bench_live.py [--calls 1,50,200] [--seconds 10]

Starts ``callreplay serve`` (the model as a real server) on loopback in its own process, then replays N
one-call scenarios at once from this process with ``--concurrency N``, each streaming speech and
silence for ``--seconds``. Lateness is the send time minus the frame's 20 ms schedule, over every frame of
every call. The reference, measured in the same run: an idle asyncio loop waking at the same
20 ms cadence (the floor any pacer on this machine pays). Prints p50/p99/max and the core count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callreplay.live.driver import LiveReplay  # noqa: E402
from callreplay.live.exec_cli import free_port, stop_process, wait_healthy  # noqa: E402
from callreplay.live.session import LiveOptions, LiveSession  # noqa: E402
from callreplay.scenario.load import parse_scenario  # noqa: E402

BUSINESS = {"id": 1, "name": "Bench Clinic", "phone": "+15550000001", "greeting": "Hello",
            "settings": {"ai_prompt": "You answer the phone for {{business_name}} and book visits.",
                         "outbound_ai_prompt": "You call patients of {{business_name}} about their visit."}}


def scenario_text(index: int, seconds: float) -> str:
    sid = f"CA{index:032x}"
    steps = [
        {"at": 0, "webhook": "incoming_call",
         "params": {"CallSid": sid, "From": f"+1555{index:07d}", "To": BUSINESS["phone"], "Direction": "inbound"}},
        {"at": 0.3, "call": sid, "ws": "start"},
        {"at": 0.32, "call": sid, "ws": {"media": [{"speech": {"duration": "2s", "rms": 1500}}, {"silence": "1s"}]},
         "for": f"{seconds}s"},
        {"at": seconds + 0.5, "call": sid, "ws": "stop"},
    ]
    return json.dumps({"name": f"bench-{index}", "businesses": [BUSINESS], "steps": steps,
                       "expect": {"live": "clean"}})


def percentile(ordered: list[int], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1000 if ordered else float("nan")


def reference(seconds: float) -> list[int]:
    """An idle loop's lateness at the same 20 ms cadence (asyncio.sleep until each due time)."""
    async def tick() -> list[int]:
        late = []
        start = time.monotonic_ns()
        for k in range(int(seconds * 50)):
            due = start + (k + 1) * 20_000_000
            await asyncio.sleep(max(0, due - time.monotonic_ns()) / 1e9)
            late.append((time.monotonic_ns() - due) // 1000)
        return late
    return sorted(asyncio.run(tick()))


def run(calls: int, seconds: float, workdir: Path) -> tuple[list[int], int]:
    port = free_port()
    businesses = workdir / "businesses.json"
    businesses.write_text(json.dumps([BUSINESS]))
    realtime_port, rest_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_REALTIME_URL": f"ws://127.0.0.1:{realtime_port}/v1/realtime",
           "TWILIO_API_BASE": f"http://127.0.0.1:{rest_port}"}
    server = subprocess.Popen([sys.executable, "-m", "callreplay", "serve", "--profile", "fixed", "--businesses",
                               str(businesses), "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        problem = wait_healthy(f"http://127.0.0.1:{port}/health", server, 20)
        if problem:
            raise SystemExit(problem)
        scenarios = [parse_scenario(scenario_text(i + 1, seconds), workdir / f"bench-{i}.yaml") for i in range(calls)]
        live = LiveOptions(target=f"http://127.0.0.1:{port}", concurrency=calls, realtime_port=realtime_port,
                           rest_port=rest_port)
        return asyncio.run(_replay(scenarios, live))
    finally:
        stop_process(server)


async def _replay(scenarios: list, live: LiveOptions) -> tuple[list[int], int]:
    session = LiveSession(live)
    await session.start()
    try:
        replays = [LiveReplay(s, session) for s in scenarios]
        await asyncio.gather(*(r.run() for r in replays))
    finally:
        await session.close()
    late = [x for r in replays for c in r.calls.values() if c.socket for x in c.socket.lateness_us]
    streamed = sum(1 for r in replays for c in r.calls.values() if c.socket and c.socket.lateness_us)
    if streamed < len(replays):
        print(f"  note: {len(replays) - streamed} of {len(replays)} calls streamed no audio")
    return sorted(late), len(late)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", default="1,50,200")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; each call streams {args.seconds:.0f} s of 20 ms frames")
    ref = reference(args.seconds)
    print(f"reference (idle asyncio loop at 20 ms): p50 {percentile(ref, .5):.2f} ms, p99 {percentile(ref, .99):.2f} ms, "
          f"max {ref[-1] / 1000:.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for calls in (int(c) for c in args.calls.split(",")):
            started = time.perf_counter()
            late, frames = run(calls, args.seconds, Path(tmp))
            print(f"{calls:4d} concurrent calls: {frames} frames, lateness p50 {percentile(late, .5):.2f} ms, "
                  f"p99 {percentile(late, .99):.2f} ms, max {late[-1] / 1000 if late else float('nan'):.2f} ms "
                  f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
