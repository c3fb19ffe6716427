"""Run many scenarios under many profiles, isolate failures, and write the results directory.

One broken scenario never stops the others: its load or replay error (even an unforeseen one)
becomes that scenario's ``error`` result. Ctrl-C stops the run but keeps what finished: the
results, ``run.json`` and the index are written, the replays not reached are ``skipped`` as not
run, and :class:`RunInterrupted` tells the CLI to exit 130. Every file is written atomically.
Everything written under the report directory is redacted (phone numbers, credentials) unless
``show_pii`` is set; nothing outside it is written.
"""

from __future__ import annotations

import fnmatch
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .atomic_write import write_text_atomic
from .detectors import run_detectors
from .detectors.base import Severity
from .errors import CallReplayError, ProfileError, ScenarioError
from .expectations import evaluate
from .outcome import NOT_RUN, Outcome, not_run, write_trace
from .pipeline.profiles import load_profile
from .redact import redact, redact_text
from .results import build_result, error_result, severity_counts, slugify
from .scenario.load import discover_scenarios, load_scenario
from .scenario.model import Scenario
from .trace import canonical_json

if TYPE_CHECKING:  # pragma: no cover
    from .live.session import LiveOptions
    from .replay import ReplayResult


@dataclass
class RunOptions:
    profiles: list[str] = field(default_factory=list)   # from --pipeline; empty: what each scenario names
    fail_on: Severity = Severity.ERROR
    detector_settings: dict[str, str] = field(default_factory=dict)
    report_dir: Path = Path("reports")
    keyword: str | None = None
    tags: list[str] = field(default_factory=list)
    show_pii: bool = False
    write: bool = True
    audio_impl: str = "fast"
    jobs: int = 1                    # replays run in this many processes (0: one per core)
    live: LiveOptions | None = None  # --target / CALLREPLAY_TARGET: replay against that server instead
    executor: str = "local"          # local (the process pool above) or dask://HOST:PORT




class RunInterrupted(Exception):
    """Ctrl-C arrived; ``outcomes`` holds every replay, finished or marked not run, already written."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes


def unforeseen(exc: BaseException, where: str) -> str:
    """One located line for an error no check foresaw (a bug to report, never a traceback)."""
    text = " ".join(str(exc).split())[:300]
    return f"{where}: internal error while {type(exc).__name__}: {text} (please report this scenario)"


def select(files: list[Path], options: RunOptions) -> tuple[list[Scenario], list[Outcome]]:
    """Load every file; keep those that match ``-k``/``--tag``; broken files become error outcomes."""
    scenarios, errors = [], []
    for file in files:
        try:
            scenario = load_scenario(file)
        except CallReplayError as exc:
            lines = exc.all_lines() if isinstance(exc, ScenarioError) else [str(exc)]
            errors.append(_load_error(file, "\n".join(lines)))
            continue
        except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001 (isolate one bad file)
            errors.append(_load_error(file, unforeseen(exc, f"{file}:1: loading")))
            continue
        if options.keyword and not (fnmatch.fnmatch(scenario.name, f"*{options.keyword}*")
                                    or options.keyword in str(file)):
            continue
        if options.tags and not set(options.tags) & set(scenario.tags):
            continue
        scenarios.append(scenario)
    return scenarios, errors


def _load_error(file: Path, message: str) -> Outcome:
    slug = "load-error--" + slugify(str(file))
    return Outcome(str(file), str(file), "-", "error", error=message,
                   result=error_result(str(file), slug, "-", message))


def profiles_for(scenario: Scenario, options: RunOptions) -> list[tuple[str, str | None]]:
    """(profile, reason-to-skip) pairs; Python profiles run only when named on the command line."""
    if options.profiles:
        return [(p, None) for p in options.profiles]
    out = []
    for name in scenario.profiles_to_run():
        skip = "a Python profile runs only when named with --pipeline" if ":" in name else None
        if name == "live":
            skip = "a live expectation: replay against a server with --target URL or callreplay exec"
        out.append((name, skip))
    return out


def replay(scenario: Scenario, profile: str, **options: Any) -> ReplayResult:
    """The in-process replay, loaded on first use: a live run (``callreplay exec``) never needs the model."""
    from .replay import replay as in_process

    return in_process(scenario, profile, **options)


def run_one(scenario: Scenario, profile: str, options: RunOptions, slug: str) -> Outcome:
    started = time.perf_counter()
    try:
        result = replay(scenario, profile, audio_impl=options.audio_impl, allow_code=True)
        findings = run_detectors(result, options.detector_settings)
    except CallReplayError as exc:
        return Outcome(str(scenario.file), scenario.name, profile, "error", error=str(exc),
                       wall_s=time.perf_counter() - started,
                       result=error_result(str(scenario.file), slug, profile, str(exc), scenario.name))
    except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001 (one bad replay never stops a run)
        message = unforeseen(exc, f"{scenario.file}: replaying under {profile}")
        return Outcome(str(scenario.file), scenario.name, profile, "error", error=message,
                       wall_s=time.perf_counter() - started,
                       result=error_result(str(scenario.file), slug, profile, message, scenario.name))
    verdict = evaluate(scenario.expect.get(profile), profile, findings, options.fail_on, result.trace)
    trace_file = f"traces/{slug}.jsonl"
    data = build_result(result, findings, verdict, slug=slug, trace_file=trace_file)
    if options.write:
        write_trace(options.report_dir / trace_file, result.trace.dumps(), options.show_pii)
    return Outcome(str(scenario.file), scenario.name, profile, data["status"], findings, verdict,
                   wall_s=time.perf_counter() - started, calls=len(data["calls"]), virtual_us=result.end_us,
                   result=data)


def _live_target(scenario: Scenario, options: RunOptions) -> LiveOptions | None:
    """--target (or CALLREPLAY_TARGET) wins; else the scenario's own ``target:``; else in-process."""
    if options.live is not None:
        return options.live
    if scenario.target:
        from .live.session import LiveOptions

        return LiveOptions(target=scenario.target)
    return None


def _unique_slug(used: dict[str, int], base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... for the later replays that would share it."""
    used[base] = used.get(base, 0) + 1
    return base if used[base] == 1 else f"{base}-{used[base]}"


def _not_run(scenario: Scenario, profile: str) -> Outcome:
    return not_run(str(scenario.file), scenario.name, profile)


def run_all(paths: list[Path], options: RunOptions, *, on_outcome: Callable[[Outcome], None] | None = None,
            on_plan: Callable[[int], None] | None = None, command: str = "",
            on_announce: Callable[[str], None] | None = None) -> list[Outcome]:
    """Replay every selected scenario under its profiles; ``on_plan`` hears how many replays will run."""
    started_at = datetime.now(UTC)
    files = discover_scenarios(paths)
    scenarios, outcomes = select(files, options)
    for outcome in outcomes:
        if on_outcome:
            on_outcome(outcome)
    work: list[tuple[Scenario, str, str | None, str]] = []
    used: dict[str, int] = {}
    live_plans: dict[str, tuple[LiveOptions, list]] = {}
    for scenario in scenarios:
        live = _live_target(scenario, options)
        if live is not None:
            from .live.runner import LIVE_PROFILE, LivePlan

            slug = _unique_slug(used, slugify(scenario.name) + "--" + LIVE_PROFILE)
            live_plans.setdefault(live.target, (live, []))[1].append(LivePlan(scenario, slug))
            continue
        for profile, skip in profiles_for(scenario, options):
            work.append((scenario, profile, skip, _unique_slug(used, slugify(scenario.name) + "--" + slugify(profile))))
    if on_plan:
        on_plan(len(work) + len(outcomes) + sum(len(plans) for _, plans in live_plans.values()))
    done = 0
    try:
        for outcome in _run_work(work, options):
            outcomes.append(outcome)
            done += 1
            if on_outcome:
                on_outcome(outcome)
    except KeyboardInterrupt:
        outcomes += [_not_run(s, p) for s, p, _, _ in work[done:]]
        outcomes += [_not_run(plan.scenario, "live") for _, plans in live_plans.values() for plan in plans]
        if options.write:
            write_results(outcomes, options, started_at, command, interrupted=True)
        raise RunInterrupted(outcomes) from None
    interrupted = False
    for live, plans in live_plans.values():
        from .live.runner import run_live

        if interrupted:
            outcomes += [_not_run(p.scenario, "live") for p in plans]
            continue
        live_outcomes, interrupted = run_live(plans, live, options, announce=on_announce, on_outcome=on_outcome)
        outcomes += live_outcomes
        if interrupted and on_outcome:
            for outcome in live_outcomes:
                if outcome.error == NOT_RUN:
                    on_outcome(outcome)
    if interrupted:
        if options.write:
            write_results(outcomes, options, started_at, command, interrupted=True)
        raise RunInterrupted(outcomes)
    if options.write:
        write_results(outcomes, options, started_at, command)
    return outcomes


def _run_item(item: tuple[Scenario, str, str | None, str], options: RunOptions) -> Outcome:
    scenario, profile, skip, slug = item
    if skip:
        return Outcome(str(scenario.file), scenario.name, profile, "skipped", error=skip)
    try:
        load_profile(profile, allow_code=True)
    except ProfileError as exc:
        return Outcome(str(scenario.file), scenario.name, profile, "error", error=str(exc),
                       result=error_result(str(scenario.file), slug, profile, str(exc), scenario.name))
    return run_one(scenario, profile, options, slug)


_worker_state: tuple | None = None


def _init_worker(work: list, options: RunOptions) -> None:
    global _worker_state
    _worker_state = (work, options)


def _run_in_worker(index: int) -> Outcome:
    assert _worker_state is not None, "the pool initialiser sets the work"
    work, options = _worker_state
    return _run_item(work[index], options)


def _run_work(work: list, options: RunOptions):
    """Outcomes in work order; with ``jobs`` > 1 the replays run in a forked process pool, or on Dask."""
    if options.executor != "local":
        from .executors import run_on_dask

        yield from run_on_dask(options.executor, work, options, _run_item)
        return
    jobs = options.jobs or (os.cpu_count() or 1)
    if jobs <= 1 or len(work) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for item in work:
            yield _run_item(item, options)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(min(jobs, len(work)), initializer=_init_worker, initargs=(work, options)) as pool:
        yield from pool.imap(_run_in_worker, range(len(work)))


def write_results(outcomes: list[Outcome], options: RunOptions, started_at: datetime, command: str, *,
                  interrupted: bool = False) -> None:
    root = options.report_dir
    (root / "results").mkdir(parents=True, exist_ok=True)
    entries = []
    for o in outcomes:
        result_file = None
        if o.result is not None:
            result_file = f"results/{o.result['slug']}.json"
            body = o.result if options.show_pii else redact(o.result)
            write_text_atomic(root / result_file, _json_text(body, sort_keys=True))
        entries.append({"file": o.file, "scenario": o.scenario, "profile": o.profile, "status": o.status,
                        "error": redact_text(o.error) if o.error and not options.show_pii else o.error,
                        "counts": severity_counts(o.findings), "result_file": result_file,
                        "wall_s": round(o.wall_s, 4), "calls": o.calls, "virtual_us": o.virtual_us,
                        "tags": o.result["scenario"].get("tags", []) if o.result else [],
                        "detectors": sorted({f.detector for f in o.findings})})
    run = {"callreplay_version": __version__, "started_at": started_at.isoformat(timespec="seconds"),
           "command": command, "profiles": sorted({o.profile for o in outcomes if o.profile != "-"}),
           "fail_on": options.fail_on.value, "show_pii": options.show_pii,
           "totals": {s: sum(1 for o in outcomes if o.status == s) for s in ("pass", "fail", "error", "skipped")},
           "results": entries}
    if interrupted:
        run["interrupted"] = True
    write_text_atomic(root / "run.json", _json_text(run, sort_keys=False))


def _json_text(body: object, *, sort_keys: bool) -> str:
    """Indented JSON; keys of user data (``evidence``) may mix types, so they are written as text."""
    try:
        return json.dumps(body, ensure_ascii=False, indent=1, sort_keys=sort_keys) + "\n"
    except TypeError:
        return json.dumps(_text_keys(body), ensure_ascii=False, indent=1, sort_keys=sort_keys, default=str) + "\n"


def _text_keys(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_text_keys(v) for v in value]
    return value


def aggregate_json(outcomes: list[Outcome], show_pii: bool) -> str:
    """The ``--json FILE`` document: every result with every finding."""
    body = [{"file": o.file, "scenario": o.scenario, "profile": o.profile, "status": o.status, "error": o.error,
             "findings": [f.as_dict() for f in o.findings],
             "verdict": o.verdict.as_dict() if o.verdict else None} for o in outcomes]
    body = body if show_pii else redact(body)
    return canonical_json({"callreplay_version": __version__, "results": body}) + "\n"
