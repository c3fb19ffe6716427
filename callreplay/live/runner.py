"""Live scenarios through the same gate as in-process ones: detectors, expectations, result files.

A live replay's expectations are the scenario's ``expect: {live: ...}``; only the detectors whose
inputs a wire trace carries run (the others are listed in the result with why). Scenarios are
replayed ``concurrency`` at a time on one event loop; Ctrl-C stops them and keeps what finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..detectors import detectors_not_run, run_detectors
from ..detectors.base import Finding
from ..errors import CallReplayError
from ..expectations import Verdict, evaluate
from ..outcome import Outcome, not_run, write_trace
from ..results import build_result
from ..scenario.model import Scenario, WsStep
from .driver import LiveReplay, LiveResult
from .session import LiveOptions, LiveSession

if TYPE_CHECKING:  # pragma: no cover
    from ..runner import RunOptions

LIVE_PROFILE = "live"
REPLAY_GRACE_S = 60.0


class LiveRefused(CallReplayError):
    """A scenario that live mode will not run (longer than --max-wall)."""


def scenario_wall_us(scenario: Scenario) -> int:
    """How long the scenario lasts on the wall clock: its last step or the end of its last media."""
    end = 0
    for step in scenario.steps:
        end = max(end, step.at_us)
        if isinstance(step, WsStep) and step.media is not None:
            one = sum(s.duration_us for s in step.media.sources)
            length = step.media.for_us if step.media.for_us is not None else one * step.media.repeat
            end = max(end, step.at_us + length)
    return end


@dataclass
class LivePlan:
    scenario: Scenario
    slug: str


async def _replay_all(plans: list[LivePlan], live: LiveOptions, options: RunOptions,
                      done: Callable[[Outcome], None], announce: Callable[[str], None] | None) -> None:
    session = LiveSession(live)
    await session.start()
    try:
        if announce:
            for name, value in session.environment().items():
                if name.endswith("_URL") or name.endswith("_BASE"):
                    announce(f"live: {name}={value}")
        gate = asyncio.Semaphore(max(1, live.concurrency))

        async def one(plan: LivePlan) -> None:
            async with gate:
                done(await _replay_one(plan, session, options))

        await asyncio.gather(*(one(p) for p in plans))
    finally:
        await session.close()


async def _replay_one(plan: LivePlan, session: LiveSession, options: RunOptions) -> Outcome:

    scenario = plan.scenario
    started = time.perf_counter()
    wall = scenario_wall_us(scenario)
    if wall > session.options.max_wall_s * 1e6:
        message = (f"{scenario.file}: the scenario lasts {wall / 1e6:.1f} s on the wall clock, longer than "
                   f"--max-wall {session.options.max_wall_s:.0f} s: live mode runs in real time (replay it "
                   "in-process, or raise --max-wall)")
        return Outcome(str(scenario.file), scenario.name, LIVE_PROFILE, "error", error=message)
    try:
        result: LiveResult = await asyncio.wait_for(LiveReplay(scenario, session).run(),
                                                    session.options.max_wall_s + REPLAY_GRACE_S)
    except TimeoutError:
        return Outcome(str(scenario.file), scenario.name, LIVE_PROFILE, "error",
                       error=f"{scenario.file}: the live replay did not finish within --max-wall + "
                             f"{REPLAY_GRACE_S:.0f} s (the target stopped answering)")
    findings = run_detectors(result, options.detector_settings)  # type: ignore[arg-type]
    verdict = evaluate(scenario.expect.get(LIVE_PROFILE), LIVE_PROFILE, findings, options.fail_on)
    return live_outcome(result, findings, verdict, plan.slug, options, time.perf_counter() - started,
                        detectors_not_run(result))  # type: ignore[arg-type]


def run_live(plans: list[LivePlan], live: LiveOptions, options: RunOptions, *,
             announce: Callable[[str], None] | None = None,
             on_outcome: Callable[[Outcome], None] | None = None) -> tuple[list[Outcome], bool]:
    """Every plan against the target: (outcomes in plan order, whether Ctrl-C stopped the run). Ctrl-C stops the
    calls, the emulators (and, through exec, the server) and keeps the finished replays; the rest are not run."""
    finished: dict[str, Outcome] = {}

    def done(outcome: Outcome) -> None:
        finished[outcome.scenario + "\0" + str(outcome.file)] = outcome
        if on_outcome:
            on_outcome(outcome)  # as each finishes: live replays take wall time

    interrupted = False
    try:
        asyncio.run(_replay_all(plans, live, options, done, announce))
    except KeyboardInterrupt:
        interrupted = True
    out = []
    for plan in plans:
        key = plan.scenario.name + "\0" + str(plan.scenario.file)
        out.append(finished.get(key) or not_run(str(plan.scenario.file), plan.scenario.name, LIVE_PROFILE))
    return out, interrupted


def live_outcome(result, findings: list[Finding], verdict: Verdict, slug: str, options: RunOptions, wall_s: float,
                 not_run: list[dict[str, str]]) -> Outcome:
    """A live replay's outcome, written like an in-process one (the trace says it ran on wall time)."""
    trace_file = f"traces/{slug}.jsonl"
    data = build_result(result, findings, verdict, slug=slug, trace_file=trace_file, mode="live",
                        detectors_not_run=not_run)
    if options.write:
        write_trace(options.report_dir / trace_file, result.trace.dumps(), options.show_pii)
    return Outcome(str(result.scenario.file), result.scenario.name, result.profile, data["status"], findings,
                   verdict, wall_s=wall_s, calls=len(data["calls"]), virtual_us=result.end_us, result=data)
