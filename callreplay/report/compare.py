"""Views across results: the same scenario under several profiles, and several calls of one business."""

from __future__ import annotations

from typing import Any

from .status import fmt_us

CONTAMINATION = ("direction-contamination", "tenant-contamination")


def _finding_counts(result: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    counts: dict[tuple[str, str, str], int] = {}
    for f in result.get("findings") or []:
        key = (str(f.get("detector")), str(f.get("severity")), str(f.get("call") or "-"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def profile_comparison(this: dict[str, Any], siblings: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows (detector, severity, call, count per profile, change) for ``this`` result and its ``siblings``
    (the same scenario under other profiles). Profiles are in the order given; ``this`` first."""
    results = [this, *siblings]
    names = [str((r.get("profile") or {}).get("name")) for r in results]
    counts = [_finding_counts(r) for r in results]
    keys = sorted({k for c in counts for k in c})
    rows = []
    for key in keys:
        values = [c.get(key, 0) for c in counts]
        present = [n for n, v in zip(names, values, strict=True) if v]
        absent = [n for n, v in zip(names, values, strict=True) if not v]
        if not absent:
            change = "in every profile" if len(set(values)) == 1 else "in every profile, counts differ"
        else:
            change = f"only in {', '.join(present)}; vanishes in {', '.join(absent)}"
        row: dict[str, object] = {"detector": key[0], "severity": key[1], "call": key[2]}
        row.update({f"count: {n}": v for n, v in zip(names, values, strict=True)})
        row["change"] = change
        rows.append(row)
    return names, rows


def business_view(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per call of each business that had more than one call: contamination span and TTL end."""
    calls = result.get("calls") or []
    per_business: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        per_business.setdefault(str(call.get("business_id")), []).append(call)
    prompts = {p.get("prompt_id"): p for p in result.get("prompts") or []}
    contaminated = {f.get("call"): f for f in result.get("findings") or [] if f.get("detector") in CONTAMINATION}
    ttl = result.get("ttl_us")
    rows = []
    for business in sorted(per_business):
        group = per_business[business]
        if len(group) < 2:
            continue
        for call in sorted(group, key=lambda c: (c.get("started_us") or 0, str(c.get("call")))):
            bindings = call.get("bindings") or []
            first = bindings[0] if bindings else {}
            prompt = prompts.get(first.get("prompt_id")) or {}
            end = call.get("ended_us")
            built = prompt.get("built_at_us")
            ttl_end = built + ttl if isinstance(built, int) and isinstance(ttl, int) else None
            bad = call.get("call") in contaminated
            span = f"{fmt_us(first.get('t_us'))} – {fmt_us(end)}" if bad and first else "-"
            past = (end - ttl_end) if bad and isinstance(end, int) and ttl_end is not None and end > ttl_end else 0
            rows.append({
                "business": business, "call": call.get("call"), "direction": call.get("direction"),
                "call span": f"{fmt_us(call.get('started_us'))} – {fmt_us(end)}",
                "bound prompt": ", ".join(f"#{b.get('prompt_id')}" for b in bindings) or "-",
                "source field": prompt.get("source_field") or "-",
                "contaminated": "CONTAMINATED" if bad else "clean",
                "contaminated span": span,
                "TTL would end it at": fmt_us(ttl_end) if ttl_end is not None else "-",
                "past the TTL": fmt_us(past) if past else "-",
                "_cls": "bad" if bad else "ok",
            })
    return rows
