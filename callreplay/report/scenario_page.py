"""The data of one scenario x profile page: calls, bound instructions, audio, findings, tables, views."""

from __future__ import annotations

import json
from typing import Any

from .audio import counter_rows, gate_rows, rms_plot
from .compare import CONTAMINATION, business_view, profile_comparison
from .imported import imported_evidence
from .instructions import ScenarioSources, segments
from .load import TraceExcerpt
from .status import SEVERITY_RANK, fmt_us, is_expected, outcome_of
from .tables import Table, frame
from .timeline import build_timeline

EXCERPT_CHARS = 1500


def _event_line(event: dict[str, Any]) -> str:
    data = json.dumps(event.get("data") or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if len(data) > EXCERPT_CHARS:
        data = data[:EXCERPT_CHARS] + f"… ({len(data) - EXCERPT_CHARS} more characters in the trace file)"
    return f"#{event.get('seq')} {fmt_us(event.get('t_us'))} {event.get('call') or '-'} " \
           f"{event.get('component')} {event.get('kind')} {data}"


def _findings(result: dict[str, Any], trace: TraceExcerpt) -> list[dict[str, Any]]:
    out = []
    for i, f in enumerate(result.get("findings") or []):
        evidence = []
        for ev in f.get("evidence") or []:
            seqs = [s for s in ev.get("trace_seq") or [] if isinstance(s, int)]
            excerpt = [(s, _event_line(trace.by_seq[s]) if s in trace.by_seq else
                        f"#{s} (not in the trace file{'' if trace.found else ': the trace file is missing'})")
                       for s in seqs]
            data = ev.get("data") or {}
            evidence.append({"label": ev.get("label"), "text": ev.get("text"), "excerpt": excerpt,
                             "data": [(k, _show(data[k])) for k in sorted(data)],
                             "fingerprint": "containment" in data or "examples" in data})
        details = f.get("details") or {}
        out.append({"index": i, "anchor": f"finding-{i}", "f": f, "evidence": evidence,
                    "expected": is_expected(result.get("verdict"), f),
                    "details": [(k, _show(details[k], k)) for k in sorted(details)]})
    return out


def _show(value: Any, key: str = "") -> str:
    if key.endswith("_us") and isinstance(value, int):
        return f"{fmt_us(value)} ({value} µs)"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _calls(result: dict[str, Any], sources: ScenarioSources) -> list[dict[str, Any]]:
    prompts = {p.get("prompt_id"): p for p in result.get("prompts") or []}
    contaminated = {f.get("call") for f in result.get("findings") or [] if f.get("detector") in CONTAMINATION}
    file = str((result.get("scenario") or {}).get("file") or "")
    views = []
    for call in result.get("calls") or []:
        sid, direction = call.get("call"), call.get("direction")
        bindings = []
        for b in call.get("bindings") or []:
            p = prompts.get(b.get("prompt_id")) or {}
            wrong = p.get("source_direction") not in (None, direction)
            body_label = f"business prompt: from {p.get('source_field') or 'unknown field'}" + \
                         (f" (the {p.get('source_direction')} prompt!)" if wrong else "")
            segs = segments(str(b.get("instructions") or ""), body_label, wrong)
            bindings.append({"b": b, "prompt": p, "wrong": wrong, "segments": segs,
                             "body": "".join(s.text for s in segs if s.source == "body")})
        side = None
        if sid in contaminated:
            expected, caption = sources.expected_text(file, call.get("business_id"), direction,
                                                      (result.get("scenario") or {}).get("businesses"))
            side = {"expected": expected, "caption": caption,
                    "bound": bindings[0]["body"] if bindings else "", "bound_prompt": bindings[0]["prompt"]
                    if bindings else {}}
        views.append({"call": call, "sid": sid, "bindings": bindings, "side": side,
                      "contaminated": sid in contaminated, "rms": rms_plot(call)})
    return views


def _latency_row(bound: dict[str, Any]) -> dict[str, Any]:
    """A latency bound of the verdict in the expectations table: the bound, what was measured, what missed it."""
    missed = "; ".join(f"{v.get('call')} from {fmt_us(v.get('start_us'))}: "
                       + ("no model audio" if v.get("latency_us") is None else fmt_us(v.get("latency_us")))
                       for v in bound.get("violations") or [])
    return {"finding": f"latency {bound.get('metric')} within {fmt_us(bound.get('within_us'))}",
            "call": bound.get("call") or "any", "severity": "-", "at least": "-", "at most": "-",
            "count": len(bound.get("measured") or []), "met": "MET" if bound.get("met") else "UNMET",
            "near misses": missed or ("nothing to measure" if not bound.get("measured") else "-"),
            "_cls": "ok" if bound.get("met") else "bad"}


def _tables(result: dict[str, Any], calls: list[dict[str, Any]], findings: list[dict[str, Any]]) -> list[Table]:
    verdict = result.get("verdict") or {}
    exp_rows = [{"finding": e.get("finding"), "call": e.get("call") or "any", "severity": e.get("severity") or "any",
                 "at least": e.get("at_least"), "at most": "-" if e.get("at_most") is None else e.get("at_most"),
                 "count": e.get("count"), "met": "MET" if e.get("met") else "UNMET",
                 "near misses": "; ".join(f"{n.get('detector')} {n.get('call') or ''} {n.get('message') or ''}"
                                          for n in e.get("near_misses") or []) or "-",
                 "_cls": "ok" if e.get("met") else "bad"} for e in verdict.get("entries") or []]
    exp_rows += [{"finding": u.get("detector"), "call": u.get("call") or "-", "severity": u.get("severity"),
                  "at least": "-", "at most": "-", "count": 1, "met": "UNEXPECTED", "near misses": u.get("message"),
                  "_cls": "bad"} for u in verdict.get("unexpected") or []]
    exp_rows += [_latency_row(bound) for bound in verdict.get("latency") or []]
    fnd_rows = [{"#": x["index"], "severity": x["f"].get("severity"), "detector": x["f"].get("detector"),
                 "call": x["f"].get("call") or "-", "at": fmt_us(x["f"].get("at_us")),
                 "expected": "expected" if x["expected"] else "UNEXPECTED", "message": x["f"].get("message"),
                 "_href": "#" + x["anchor"], "_sev": SEVERITY_RANK.get(x["f"].get("severity"), 0),
                 "_sevcls": f"sev-{x['f'].get('severity')}", "_at": x["f"].get("at_us") or 0,
                 "_expcls": "exp-yes" if x["expected"] else "exp-no"} for x in findings]
    call_rows = [{"call": c["sid"], "direction": c["call"].get("direction"),
                  "direction source": c["call"].get("direction_source"),
                  "locked direction": c["call"].get("locked_direction"), "business": c["call"].get("business_id"),
                  "started": fmt_us(c["call"].get("started_us")), "ended": fmt_us(c["call"].get("ended_us")),
                  "end reason": c["call"].get("end_reason"), "turns": len(c["call"].get("turns") or []),
                  "bound prompts": ", ".join(f"#{b['b'].get('prompt_id')}" for b in c["bindings"]) or "-",
                  "contaminated": "CONTAMINATED" if c["contaminated"] else "no",
                  "_href": f"#call-{i}", "_cls": "bad" if c["contaminated"] else "ok"}
                 for i, c in enumerate(calls)]
    prompt_cols = ["prompt_id", "call", "builder", "path", "requested_direction", "source_field", "source_direction",
                   "fallback", "settings_version", "built", "length"]
    prompt_rows = [{**{k: p.get(k) for k in prompt_cols}, "built": fmt_us(p.get("built_at_us"))}
                   for p in result.get("prompts") or []]
    http_rows = [{"at": fmt_us(h.get("t_us")), "call": h.get("call") or "-", "method": h.get("method"),
                  "url": h.get("url"), "status": h.get("status"), "note": h.get("note") or "",
                  "form": json.dumps(h.get("form") or {}, sort_keys=True, ensure_ascii=False), "_t": h.get("t_us")}
                 for h in result.get("http") or []]
    hook_rows = [{"at": fmt_us(w.get("t_us")), "call": w.get("call") or "-", "kind": w.get("kind"),
                  "route": w.get("route"), "path / status": w.get("path") or w.get("status"),
                  "body": json.dumps(w.get("form") or w.get("body") or "", sort_keys=True, ensure_ascii=False),
                  "_t": w.get("t_us")} for w in result.get("webhooks") or []]
    raw_calls = [c["call"] for c in calls]
    sids = [str(c.get("call")) for c in raw_calls]
    gates, others = gate_rows(raw_calls), counter_rows(raw_calls)
    return [
        Table("expectations", "Expectations", frame(exp_rows, ["finding", "call", "severity", "at least", "at most",
                                                               "count", "met", "near misses", "_cls"]),
              classes={"met": "_cls"}, note="No expectations were declared for this profile."),
        Table("findings", "Findings", frame(fnd_rows, ["#", "severity", "detector", "call", "at", "expected",
                                                       "message", "_href", "_sev", "_sevcls", "_at", "_expcls"]),
              links={"detector": "_href"}, sort_keys={"severity": "_sev", "at": "_at"},
              classes={"severity": "_sevcls", "expected": "_expcls"}, note="No findings."),
        Table("calls", "Calls", frame(call_rows, ["call", "direction", "direction source", "locked direction",
                                                  "business", "started", "ended", "end reason", "turns",
                                                  "bound prompts", "contaminated", "_href", "_cls"]),
              links={"call": "_href"}, classes={"contaminated": "_cls"}, note="No calls."),
        Table("prompts", "Prompts built", frame(prompt_rows, prompt_cols), note="No prompt was built."),
        Table("audio-gates", "Audio path: where the frames went", frame(gates, ["counter", "meaning", *sids]),
              note="No audio counters recorded."),
        Table("audio-counters", "Other audio counters", frame(others, ["counter", *sids]), sortable=False,
              note="No other counters."),
        Table("http", "HTTP requests the pipeline made", frame(http_rows, ["at", "call", "method", "url", "status",
                                                                           "note", "form", "_t"]),
              sort_keys={"at": "_t"}, note="The pipeline made no outbound HTTP request."),
        Table("webhooks", "Webhook requests and TwiML responses", frame(hook_rows, ["at", "call", "kind", "route",
                                                                                     "path / status", "body", "_t"]),
              sort_keys={"at": "_t"}, note="No webhooks."),
    ]


def scenario_context(result: dict[str, Any], entry: dict[str, Any], trace: TraceExcerpt,
                     siblings: list[dict[str, Any]], sources: ScenarioSources) -> dict[str, Any]:
    findings = _findings(result, trace)
    calls = _calls(result, sources)
    tables = _tables(result, calls, findings)
    by_name = {t.name: t for t in tables}
    compare = None
    if siblings:
        names, rows = profile_comparison(result, siblings)
        cols = ["detector", "severity", "call", *[f"count: {n}" for n in names], "change"]
        table = Table("profiles", "Across profiles", frame(rows, cols), note="No findings in any profile.")
        compare = {"table": table,
                   "links": [{"name": (s.get("profile") or {}).get("name"), "href": f"{s.get('slug')}.html",
                              "outcome": outcome_of(str(s.get("status")), s.get("counts"))} for s in siblings]}
        tables.append(table)
    business = business_view(result)
    business_table = None
    if business:
        business_table = Table("business", "Business view: calls of one business",
                               frame(business, ["business", "call", "direction", "call span", "bound prompt",
                                                "source field", "contaminated", "contaminated span",
                                                "TTL would end it at", "past the TTL", "_cls"]),
                               classes={"contaminated": "_cls"})
        tables.append(business_table)
    persisted = [x for x in findings if x["f"].get("detector") == "contamination-persisted"]
    anchors = {x["index"]: x["anchor"] for x in findings}
    return {
        "result": result, "entry": entry, "outcome": outcome_of(str(result.get("status")), result.get("counts")),
        "timeline": build_timeline(result, trace.events, anchors) if result.get("calls") else None,
        "trace_found": trace.found, "calls": calls, "findings": findings, "tables": tables, "t": by_name,
        "compare": compare, "business": business_table, "persisted": persisted,
        "imported": imported_evidence(result),
    }
