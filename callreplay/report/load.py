"""Reading a results directory: ``run.json``, ``results/*.json`` and the parts of ``traces/*.jsonl`` a page shows.

Traces are large (every media frame is an event), so :func:`read_trace` parses only the event kinds the
timeline draws and the events findings cite as evidence; every other line is skipped unparsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

# Event kinds the timeline draws (everything else is only parsed when a finding cites it).
TIMELINE_KINDS = frozenset({
    "webhook.request", "webhook.response", "task.scheduled", "prebuild.finished", "prompt.built",
    "prompt.registry_read", "prompt.mismatch_check", "prompt.loaded", "prompt.missing",
    "cache.get", "cache.set", "cache.invalidate", "registry.create", "registry.set", "registry.get",
    "registry.clear", "call.started", "call.ended", "call.hard_limit", "call.direction_locked",
    "call.business_identified", "ws.open", "ws.closed", "ws.in", "ws.protocol",
    "realtime.session_update", "realtime.session_updated", "settings.changed", "http.request",
})
_KIND_KEY = '"kind":"'


@dataclass
class TraceExcerpt:
    """The events of one trace a page needs: timeline kinds, and the cited ones by sequence number."""

    found: bool
    events: list[dict[str, Any]] = field(default_factory=list)   # timeline kinds, in trace order
    by_seq: dict[int, dict[str, Any]] = field(default_factory=dict)


def _loads(text: str | bytes) -> Any:
    """orjson where it can (results and traces are plain JSON); the stdlib for what orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _kind_of(line: str) -> str:
    # Canonical JSON sorts keys, so the event's own "kind" is the last one on the line (after "data").
    at = line.rfind(_KIND_KEY)
    if at < 0:
        return ""
    start = at + len(_KIND_KEY)
    return line[start:line.find('"', start)]


def read_trace(path: Path | None, cited: set[int]) -> TraceExcerpt:
    """Parse the timeline kinds and the ``cited`` sequence numbers of a JSON Lines trace."""
    if path is None or not path.is_file():
        return TraceExcerpt(found=False)
    out = TraceExcerpt(found=True)
    with path.open(encoding="utf-8") as fh:
        for index, line in enumerate(fh):
            wanted = _kind_of(line) in TIMELINE_KINDS
            if not wanted and index not in cited:
                continue
            try:
                event = _loads(line)
            except json.JSONDecodeError:
                continue
            if wanted:
                out.events.append(event)
            if isinstance(event.get("seq"), int):
                out.by_seq[event["seq"]] = event
    missing = cited - out.by_seq.keys()
    if missing:  # seq did not equal the line number: fall back to a full scan for the cited events
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if any(f'"seq":{s},' in line for s in missing):
                    event = _loads(line)
                    out.by_seq.setdefault(event["seq"], event)
    return out


def read_json(path: Path) -> Any:
    return _loads(path.read_text(encoding="utf-8"))


def cited_seqs(result: dict[str, Any]) -> set[int]:
    seqs: set[int] = set()
    for finding in result.get("findings") or []:
        for ev in finding.get("evidence") or []:
            seqs.update(s for s in ev.get("trace_seq") or [] if isinstance(s, int))
    return seqs


def load_result(report_dir: Path, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The result document of a ``run.json`` entry (None where it has none or it is unreadable)."""
    path = _inside(report_dir, entry.get("result_file"))
    try:
        return read_json(path) if path and path.is_file() else None
    except (OSError, ValueError):
        return None


def summary(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the index and the other profiles' pages need of a result: no calls, prompts or evidence."""
    if result is None:
        return None
    verdict = result.get("verdict") or {}
    return {"slug": result.get("slug"), "status": result.get("status"), "counts": result.get("counts"),
            "profile": {"name": (result.get("profile") or {}).get("name")},
            "verdict": {"entries": [{k: e.get(k) for k in ("finding", "call", "severity")}
                                    for e in verdict.get("entries") or []]},
            "findings": [{k: f.get(k) for k in ("detector", "severity", "call")}
                         for f in result.get("findings") or []]}


def _inside(root: Path, rel: str | None) -> Path | None:
    """``root / rel`` if it stays inside ``root`` (results never point outside their directory)."""
    if not rel:
        return None
    path = (root / rel).resolve()
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return None
    return path


def trace_path(report_dir: Path, result: dict[str, Any]) -> Path | None:
    return _inside(report_dir, result.get("trace_file"))
