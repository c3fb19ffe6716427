"""Terminal lines for a run: one line per scenario and profile, and a failure explained in one screen."""

from __future__ import annotations

from .durations import format_us
from .runner import Outcome

MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def outcome_line(o: Outcome) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in o.findings:
        counts[f.severity.value] += 1
    if o.status in ("error", "skipped"):
        return f"{MARK[o.status]:5} {o.scenario} [{o.profile}]: {o.error}"
    found = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no findings"
    if o.result and o.result.get("mode") == "live":
        not_run = len(o.result.get("detectors_not_run") or [])
        return (f"{MARK[o.status]:5} {o.scenario} [{o.profile}] {found}; {o.calls} calls, "
                f"{format_us(o.virtual_us)} of wall time; {not_run} detectors lack their inputs live and did not run (-v: why)")
    return (f"{MARK[o.status]:5} {o.scenario} [{o.profile}] {found}; {o.calls} calls, "
            f"{format_us(o.virtual_us)} virtual in {o.wall_s:.2f}s")


def not_run_lines(o: Outcome) -> list[str]:
    """-v on a live replay: which detectors could not run, and why."""
    rows = (o.result or {}).get("detectors_not_run") or []
    return [f"    not run: {row['detector']}: {row['reason']}" for row in rows]


def failure_lines(o: Outcome) -> list[str]:
    """Missing and unexpected findings, each with its evidence and the nearest misses."""
    lines: list[str] = []
    if o.verdict is None:
        return lines
    for entry in o.verdict.entries:
        if entry.met:
            continue
        e = entry.expected
        want = f"{e.finding}" + (f" on {e.call}" if e.call else "") + (f" ({e.severity})" if e.severity else "")
        bound = f"at least {e.at_least}" + (f", at most {e.at_most}" if e.at_most is not None else "")
        lines.append(f"  missing: {want}: expected {bound}, found {entry.count}")
        for near in entry.near_misses:
            lines.append(f"    near miss: {near.severity.value} {near.detector} {near.call or '-'} at "
                         f"{format_us(near.at_us)}: {near.message}")
    for latency in o.verdict.latency:
        if latency.met:
            continue
        limit = latency.expected
        where = f" on {limit.call}" if limit.call else ""
        if not latency.measured:
            lines.append(f"  latency: {limit.metric}{where} within {format_us(limit.within_us)}: nothing to measure")
        for m in latency.violations:
            took = "no model audio" if m.latency_us is None else format_us(m.latency_us)
            lines.append(f"  latency: {limit.metric} on {m.call} from {format_us(m.start_us)}: {took}, "
                         f"expected within {format_us(limit.within_us)}")
    for f in o.verdict.unexpected:
        lines.append(f"  unexpected: {f.severity.value} {f.detector} {f.call or '-'} at {format_us(f.at_us)}: "
                     f"{f.message}")
        for ev in f.evidence[:3]:
            lines.append(f"    {ev.label}: {ev.text}")
    if o.verdict.clean and o.verdict.unexpected:
        lines.insert(0, "  expected clean")
    return lines
