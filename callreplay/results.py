"""One replay's machine-readable result: findings, verdict, calls, prompts, outbound HTTP.

This dict is what ``reports/results/*.json`` holds and what the HTML report renders; it has no
wall-clock field, so the same scenario gives a byte-identical file on every run and machine.
"""

from __future__ import annotations

import re
from typing import Any

from ._version import __version__
from .detectors.base import Finding
from .detectors.view import TraceView
from .expectations import Verdict
from .replay import ReplayResult

RESULT_FORMAT = 1


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "scenario"


def severity_counts(findings: list[Finding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


def _calls(view: TraceView) -> list[dict[str, Any]]:
    ended = {e.call: e.data for e in view.events("call.ended")}
    profiles = {e.call: e.data for e in view.events("audio.profile")}
    out = []
    for sid, info in view.calls.items():
        end = ended.get(sid, {})
        out.append({
            "call": sid, "direction": info.direction, "direction_source": info.direction_source,
            "locked_direction": info.locked_direction, "business_id": info.business,
            "webhook_business": info.webhook_business, "ws_business": info.ws_business,
            "started_us": info.started_us, "ended_us": info.ended_us, "end_reason": info.end_reason,
            "bindings": [{"seq": b.seq, "t_us": b.t_us, "prompt_id": b.prompt_id, "reason": b.reason,
                          "instructions": b.instructions} for b in info.bindings],
            "turns": [{"seq": t.seq, "t_us": t.t_us, **t.data} for t in info.turns],
            "counters": end.get("counters", {}), "appended_frames": end.get("appended_frames"),
            "audio_sha256": end.get("audio_sha256"), "tx_frames": end.get("tx_frames"),
            "rms_profile": profiles.get(sid),
        })
    return out


def build_result(result: ReplayResult, findings: list[Finding], verdict: Verdict, *, slug: str,
                 trace_file: str, mode: str = "in-process",
                 detectors_not_run: list[dict[str, str]] | None = None) -> dict[str, Any]:
    scenario = result.scenario
    view = TraceView(result.trace, scenario)
    if mode == "live":
        profile_info = {"name": result.profile, "summary": f"the live server at {getattr(result, 'target', '?')}",
                        "class": "live"}
    else:
        profile_info = result.profile.describe()
    extra: dict[str, Any] = {}
    if mode == "live":
        extra = {"mode": "live", "clock": "wall", "target": getattr(result, "target", None),
                 "detectors_not_run": detectors_not_run or []}
    return {**extra,
        "format": RESULT_FORMAT,
        "callreplay_version": __version__,
        "slug": slug,
        "scenario": {"name": scenario.name, "file": str(scenario.file), "description": scenario.description,
                     "tags": list(scenario.tags), "clock_start": scenario.clock_start.isoformat() if scenario.clock_start else None,
                     "timezone": scenario.timezone, "evidence": scenario.evidence,
                     "businesses": [{"id": b.id, "name": b.name, "phone": b.phone, "system_prompt": b.system_prompt,
                                     "settings": {k: (b.settings or {}).get(k)
                                                  for k in ("ai_prompt", "outbound_ai_prompt")}}
                                    for b in scenario.businesses]},
        "profile": profile_info,
        "status": "pass" if verdict.passed else "fail",
        "error": None,
        "verdict": verdict.as_dict(),
        "counts": severity_counts(findings),
        "findings": [f.as_dict() for f in findings],
        "calls": _calls(view),
        "prompts": [dict(e.data, seq=e.seq, call=e.call, t_us=e.t_us) for e in view.events("prompt.built")],
        "webhooks": [dict(e.data, seq=e.seq, call=e.call, t_us=e.t_us, kind=e.kind)
                     for e in result.trace.events if e.kind in ("webhook.request", "webhook.response")],
        "http": [dict(e.data, seq=e.seq, call=e.call, t_us=e.t_us) for e in view.events("http.request")],
        "virtual_end_us": result.end_us,
        "ttl_us": view.ttl_us,
        "trace_file": trace_file,
        "trace_events": len(result.trace),
    }


def error_result(file: str, slug: str, profile: str, message: str, name: str | None = None) -> dict[str, Any]:
    return {"format": RESULT_FORMAT, "callreplay_version": __version__, "slug": slug,
            "scenario": {"name": name or file, "file": file, "description": "", "tags": []},
            "profile": {"name": profile, "summary": "", "class": ""}, "status": "error", "error": message,
            "verdict": None, "counts": {"error": 0, "warning": 0, "info": 0}, "findings": [], "calls": [],
            "prompts": [], "webhooks": [], "http": [], "virtual_end_us": 0, "trace_file": None}
