"""The index page's data: run metadata, the scenario x profile matrix, filters and the findings table.

The index carries no evidence, only counts and links, so it stays small for hundreds of replays.
"""

from __future__ import annotations

from typing import Any

from .status import OUTCOMES, SEVERITIES, SEVERITY_RANK, is_expected, outcome_of
from .tables import Table, frame


def page_href(entry: dict[str, Any], result: dict[str, Any] | None) -> str:
    slug = (result or {}).get("slug")
    return f"scenarios/{slug}.html" if slug else ""


def index_context(run: dict[str, Any], results: list[dict[str, Any] | None]) -> dict[str, Any]:
    entries = run.get("results") or []
    profiles = list(run.get("profiles") or [])
    for e in entries:  # a scenario that did not load has profile "-": it gets a column of its own
        if str(e.get("profile")) not in profiles:
            profiles.append(str(e.get("profile")))
    scenarios: list[str] = []
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry, result in zip(entries, results, strict=True):
        name = str(entry.get("scenario"))
        if name not in scenarios:
            scenarios.append(name)
        outcome = outcome_of(str(entry.get("status")), entry.get("counts"))
        cells.setdefault((name, str(entry.get("profile"))), []).append({
            "outcome": outcome, "counts": entry.get("counts") or {}, "href": page_href(entry, result),
            "error": entry.get("error") or "", "tags": " ".join(sorted(map(str, entry.get("tags") or []))),
            "detectors": " ".join(sorted(map(str, entry.get("detectors") or []))),
        })
    col_profiles = profiles if profiles else ["-"]
    matrix_rows, matrix = [], []
    for name in scenarios:
        row_cells = [cells.get((name, p), []) for p in col_profiles]
        flat = [c for group in row_cells for c in group]
        matrix.append({"scenario": name, "cells": row_cells,
                       "tags": " ".join(sorted({t for c in flat for t in c["tags"].split()})),
                       "statuses": " ".join(sorted({c["outcome"].key for c in flat})),
                       "detectors": " ".join(sorted({d for c in flat for d in c["detectors"].split()}))})
        matrix_rows.append({"scenario": name, **{p: "; ".join(_cell_text(c) for c in cells.get((name, p), []))
                                                 for p in col_profiles}})
    matrix_table = Table("matrix", "Scenario x profile", frame(matrix_rows, ["scenario", *col_profiles]))
    findings = findings_table(entries, results)
    outcome_counts = {k: 0 for k in OUTCOMES}
    for entry in entries:
        outcome_counts[outcome_of(str(entry.get("status")), entry.get("counts")).key] += 1
    return {
        "run": run, "profiles": col_profiles, "matrix": matrix, "tables": [matrix_table, findings],
        "findings": findings, "outcomes": OUTCOMES,
        "run_data": {"callreplay_version": run.get("callreplay_version"), "command": run.get("command"),
                     "profiles": col_profiles, "totals": run.get("totals")}, "outcome_counts": outcome_counts,
        "filter_tags": sorted({t for e in entries for t in map(str, e.get("tags") or [])}),
        "filter_detectors": sorted({d for e in entries for d in map(str, e.get("detectors") or [])}),
    }


def _cell_text(cell: dict[str, Any]) -> str:
    c = cell["counts"]
    return f"{cell['outcome'].label} (E{c.get('error', 0)} W{c.get('warning', 0)} I{c.get('info', 0)})"


def findings_table(entries: list[dict[str, Any]], results: list[dict[str, Any] | None]) -> Table:
    """One row per (scenario, profile, detector, severity, expected?) with a count and a link."""
    rows = []
    for entry, result in zip(entries, results, strict=True):
        if not result:
            continue
        groups: dict[tuple[str, str, bool], int] = {}
        first_index: dict[tuple[str, str, bool], int] = {}
        for i, f in enumerate(result.get("findings") or []):
            key = (str(f.get("detector")), str(f.get("severity")), is_expected(result.get("verdict"), f))
            groups[key] = groups.get(key, 0) + 1
            first_index.setdefault(key, i)
        href = page_href(entry, result)
        outcome = outcome_of(str(entry.get("status")), entry.get("counts"))
        for key in sorted(groups, key=lambda k: (-SEVERITY_RANK.get(k[1], 0), k[0], k[2])):
            detector, severity, expected = key
            rows.append({"severity": severity, "detector": detector, "scenario": entry.get("scenario"),
                         "profile": entry.get("profile"), "count": groups[key],
                         "expected": "expected" if expected else "UNEXPECTED",
                         "_href": f"{href}#finding-{first_index[key]}", "_sev": SEVERITY_RANK.get(severity, 0),
                         "_sevcls": f"sev-{severity}", "_expcls": "exp-yes" if expected else "exp-no",
                         "_tags": " ".join(sorted(map(str, entry.get("tags") or []))),
                         "_status": outcome.key})
    cols = ["severity", "detector", "scenario", "profile", "count", "expected",
            "_href", "_sev", "_sevcls", "_expcls", "_tags", "_status"]
    return Table("findings", "Findings (grouped; evidence is on each scenario page)", frame(rows, cols),
                 links={"detector": "_href"}, sort_keys={"severity": "_sev"},
                 classes={"severity": "_sevcls", "expected": "_expcls"},
                 row_data={"tags": "_tags", "status": "_status", "detector": "detector"},
                 note="No findings in this run.")


__all__ = ["index_context", "findings_table", "page_href", "SEVERITIES"]
