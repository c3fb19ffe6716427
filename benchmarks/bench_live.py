"""Live mode's frame pacing: how late each 20 ms caller frame leaves, at 1, 50 and 200 concurrent calls.

    python benchmarks/bench_live.py [--calls 1,50,200] [--seconds 10] [--aligned] [--ramp S] [--floor]

Starts ``callreplay serve`` (the model as a real server) on loopback in its own process, then replays N
one-call scenarios at once from this process with ``--concurrency N``, each streaming speech and
silence for ``--seconds``. Lateness is the send time minus the frame's 20 ms schedule, over every frame of
every call. The reference, measured in the same run: an idle asyncio loop waking at the same
20 ms cadence (the floor any pacer on this machine pays). Prints p50/p99/max and the core count.
With ``--floor``, also the floor of the transport itself at the largest call count: raw asyncio transports,
one loopback TCP connection per call, a 300-byte write each per 20 ms (spin-waiting for the due time) to a
peer process on the other core that writes every byte back, no WebSocket, no JSON, no checks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
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


def scenario_text(index: int, seconds: float, phase_s: float = 0.0) -> str:
    sid = f"CA{index:032x}"
    steps = [
        {"at": round(phase_s, 6), "webhook": "incoming_call",
         "params": {"CallSid": sid, "From": f"+1555{index:07d}", "To": BUSINESS["phone"], "Direction": "inbound"}},
        {"at": round(0.3 + phase_s, 6), "call": sid, "ws": "start"},
        {"at": round(0.32 + phase_s, 6), "call": sid,
         "ws": {"media": [{"speech": {"duration": "2s", "rms": 1500}}, {"silence": "1s"}]}, "for": f"{seconds}s"},
        {"at": round(seconds + 0.5 + phase_s, 6), "call": sid, "ws": "stop"},
    ]
    return json.dumps({"name": f"bench-{index}", "businesses": [BUSINESS], "steps": steps,
                       "expect": {"live": "clean"}})


ALL_CORES = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()


def _driver_core() -> set[int] | None:
    """The one core callreplay's process runs on (the goal is stated for one core), if it can be pinned."""
    if not hasattr(os, "sched_setaffinity") or len(ALL_CORES) < 2:
        return None
    return {sorted(ALL_CORES)[0]}


def _other_cores() -> None:
    """In the target's process: every core but callreplay's."""
    core = _driver_core()
    if core is not None:
        os.sched_setaffinity(0, ALL_CORES - core)


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


class _Sink(asyncio.Protocol):
    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        pass


class _EchoBack(_Sink):
    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


def _echo_server(ports: multiprocessing.Queue, seconds: float) -> None:
    _other_cores()

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(_EchoBack, "127.0.0.1", 0)
        ports.put(server.sockets[0].getsockname()[1])
        await asyncio.sleep(seconds + 30)

    asyncio.run(serve())


def floor(calls: int, seconds: float) -> list[int]:
    """Lateness of raw transport writes at the same schedule (spread over one period), against an echoing peer."""
    ports: multiprocessing.Queue = multiprocessing.Queue()
    peer = multiprocessing.Process(target=_echo_server, args=(ports, seconds), daemon=True)
    peer.start()
    port = ports.get(timeout=20)

    async def send() -> list[int]:
        loop = asyncio.get_running_loop()
        transports = []
        for _ in range(calls):
            transport, _protocol = await loop.create_connection(_Sink, "127.0.0.1", port)
            transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            transports.append(transport)
        frame, late = b"x" * 300, []
        start = time.monotonic_ns() + 100_000_000
        schedule = sorted((k * 20_000_000 + i * 20_000_000 // calls, i)
                          for k in range(int(seconds * 50)) for i in range(calls))
        for offset, i in schedule:
            due = start + offset
            if due - time.monotonic_ns() > 1_000_000:
                await asyncio.sleep((due - time.monotonic_ns() - 500_000) / 1e9)
            while time.monotonic_ns() < due:
                await asyncio.sleep(0)
            transports[i].write(frame)
            late.append((time.monotonic_ns() - due) // 1000)
        for transport in transports:
            transport.close()
        return sorted(late)

    try:
        return asyncio.run(send())
    finally:
        peer.terminate()


def run(calls: int, seconds: float, workdir: Path, spread: bool = True, ramp_s: float = 0.0) -> tuple[list[int], int]:
    port = free_port()
    businesses = workdir / "businesses.json"
    businesses.write_text(json.dumps([BUSINESS]))
    realtime_port, rest_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_REALTIME_URL": f"ws://127.0.0.1:{realtime_port}/v1/realtime",
           "TWILIO_API_BASE": f"http://127.0.0.1:{rest_port}"}
    server = subprocess.Popen([sys.executable, "-m", "callreplay", "serve", "--profile", "fixed", "--businesses",
                               str(businesses), "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_other_cores,
                              start_new_session=True)
    try:
        problem = wait_healthy(f"http://127.0.0.1:{port}/health", server, 20)
        if problem:
            raise SystemExit(problem)
        # spread: the calls' frame clocks are evenly out of phase over one 20 ms period, as calls that were
        # not placed in the same millisecond are; aligned: every call's frames fall due at the same instant
        # ramp: the calls are placed one after another over ramp_s, as calls reach a call center
        scenarios = [parse_scenario(scenario_text(i + 1, seconds, (i * 0.02 / calls if spread else 0.0)
                                                  + i * ramp_s / calls),
                                    workdir / f"bench-{i}.yaml") for i in range(calls)]
        live = LiveOptions(target=f"http://127.0.0.1:{port}", concurrency=calls, realtime_port=realtime_port,
                           rest_port=rest_port)
        return asyncio.run(_replay(scenarios, live))
    finally:
        stop_process(server)


async def _replay(scenarios: list, live: LiveOptions) -> tuple[list[int], int]:
    session = LiveSession(live)
    await session.start()
    core = _driver_core()
    if core is not None and session.realtime is not None and session.realtime.pid:
        os.sched_setaffinity(session.realtime.pid, ALL_CORES - core)  # the model emulator: beside the target
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
    parser.add_argument("--aligned", action="store_true",
                        help="also run every call's frames due at the same instant (the worst case)")
    parser.add_argument("--ramp", type=float, default=0.0, metavar="S",
                        help="place the calls one after another over S seconds instead of all at once")
    parser.add_argument("--floor", action="store_true",
                        help="also measure raw transport writes at the largest call count (no WebSocket, no checks)")
    args = parser.parse_args()
    core = _driver_core()
    print(f"cores: {os.cpu_count()}; callreplay pinned to core {sorted(core)[0] if core else 'none (cannot pin)'}, "
          f"the target (callreplay serve) to the others; each call streams {args.seconds:.0f} s of 20 ms frames")
    if core is not None:
        os.sched_setaffinity(0, core)
    ref = reference(args.seconds)
    print(f"reference (idle asyncio loop at 20 ms): p50 {percentile(ref, .5):.2f} ms, p99 {percentile(ref, .99):.2f} ms, "
          f"max {ref[-1] / 1000:.2f} ms")
    counts = [int(c) for c in args.calls.split(",")]
    if args.floor:
        low = floor(max(counts), args.seconds)
        print(f"floor (raw transports, {max(counts)} connections, peer writes back): p50 {percentile(low, .5):.2f} ms, "
              f"p99 {percentile(low, .99):.2f} ms, max {low[-1] / 1000:.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for calls in counts:
            for spread in ((True, False) if calls > 1 and args.aligned else (True,)):
                started = time.perf_counter()
                late, frames = run(calls, args.seconds, Path(tmp), spread, args.ramp)
                label = ("spread" if spread else "aligned") + (f", placed over {args.ramp:g} s" if args.ramp else "")
                print(f"{calls:4d} concurrent calls ({label}): {frames} frames, lateness p50 "
                      f"{percentile(late, .5):.2f} ms, p99 {percentile(late, .99):.2f} ms, max "
                      f"{late[-1] / 1000 if late else float('nan'):.2f} ms ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
