"""Contamination: the session was given another direction's (or another business's) prompt.

Two independent proofs are kept apart and both reported. *Provenance*: the bound prompt's
recorded source field belongs to the other direction (or business). *Content*: normalised text
fingerprints of the configured prompts, found in the instructions as sent (after layering,
placeholders, the JSON form and the wire sanitiser) -- this proof needs no provenance, so it
works on recordings. The header/footer labels always name the requested direction and are
ignored as evidence (hazard H6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..durations import format_us
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .side_effects import dialled_businesses, side_effects
from .view import PROMPT_FIELDS, Binding, CallInfo, TraceView

OTHER = {"inbound": "outbound", "outbound": "inbound"}


@dataclass(frozen=True)
class ContaminatedSpan:
    call: str
    business_id: int | None
    direction: str
    start_us: int
    end_us: int
    binding: Binding
    provenance: Evidence | None
    content: Evidence | None


def _content_evidence(view: TraceView, info: CallInfo, binding: Binding, own_label: str,
                      foreign: set[str]) -> Evidence | None:
    if not binding.instructions:
        return None
    attribution = view.content_attribution(binding.instructions, info.business, binding.t_us)
    present = set(attribution.present)
    hits = sorted(present & foreign)
    if not hits or own_label in present:
        return None
    match = next(m for m in attribution.matches if m.label == hits[0])
    return Evidence(
        "content", f"the instructions sent contain {match.matched_shingles}/{match.total_shingles} "
        f"({match.containment:.0%}) of the configured {hits[0]} text and none of {own_label}",
        (binding.seq,), {"verdict": attribution.verdict, "present": sorted(present), "label": hits[0],
                         "containment": round(match.containment, 4), "examples": list(match.matched_examples),
                         "reason": match.reason})


def _use_end(view: TraceView, info: CallInfo, index: int) -> int:
    nxt = next((b for b in info.bindings[index + 1:] if b.instructions is not None), None)
    return nxt.t_us if nxt else view.call_end_us(info.sid)


def direction_spans(view: TraceView) -> list[ContaminatedSpan]:
    """Every binding whose business content came from the other direction's source."""
    spans = []
    for info in view.calls.values():
        if info.direction not in OTHER or not info.bindings:
            continue
        own, other = PROMPT_FIELDS[info.direction], PROMPT_FIELDS[OTHER[info.direction]]
        for i, binding in enumerate(info.bindings):
            if binding.instructions is None:
                continue
            prov = view.prompt(binding.prompt_id)
            prov_ev = None
            if prov and prov.get("source_direction") == OTHER[info.direction]:
                prov_ev = Evidence(
                    "provenance", f"prompt #{binding.prompt_id} was built by {prov['builder']} ({prov['path']}) for "
                    f"direction {prov['requested_direction']} from {prov['source_field']}, the "
                    f"{prov['source_direction']} prompt (fallback: {prov.get('fallback')})",
                    view.prompt_seq(binding.prompt_id) + (binding.seq,), {k: prov.get(k) for k in (
                        "prompt_id", "builder", "path", "source_field", "source_direction", "requested_direction",
                        "settings_version", "built_at_us", "fallback")})
            content_ev = _content_evidence(view, info, binding, own, {other})
            if prov_ev or content_ev:
                spans.append(ContaminatedSpan(info.sid, info.business, info.direction, binding.t_us,
                                              _use_end(view, info, i), binding, prov_ev, content_ev))
    return spans


def _labels_evidence(binding: Binding, direction: str) -> Evidence | None:
    text = binding.instructions or ""
    label = direction.upper()
    if f"Call: {label}" in text or f"CALL TYPE: {label}" in text:
        return Evidence("labels", f"the header and footer still say {label} (hazard H6): a label check passes while "
                        "the body is the other direction's script", (binding.seq,))
    return None


class DirectionContamination(BaseDetector):
    id = "direction-contamination"
    needs = frozenset({Needs.WIRE})
    summary = "a call's session was given instructions whose business content came from the other direction"
    why = ("The incident: inbound callers heard the outbound sales script. Proved by provenance and, independently, "
           "by content fingerprints, so it also works on recordings.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        by_call: dict[str, list[ContaminatedSpan]] = {}
        for span in direction_spans(view):
            by_call.setdefault(span.call, []).append(span)
        for call, spans in by_call.items():
            first = spans[0]
            turns = [t for t in view.calls[call].turns if any(s.start_us <= t.t_us < s.end_us for s in spans)]
            proofs = [e for e in (first.provenance, first.content) if e]
            labels = _labels_evidence(first.binding, first.direction)
            evidence = proofs + ([labels] if labels else [])
            used = sum(s.end_us - s.start_us for s in spans)
            yield self.finding(
                view, call, first.start_us,
                f"{first.direction} call {call} was bound to {OTHER[first.direction]} instructions at "
                f"{format_us(first.start_us)} and used them for {format_us(used)} ({len(turns)} response turns); "
                f"proved by {' and '.join(e.label for e in proofs)}", *evidence,
                direction=first.direction, proofs=[e.label for e in proofs], used_us=used, turns=len(turns),
                bindings=[s.binding.seq for s in spans])


class TenantContamination(BaseDetector):
    id = "tenant-contamination"
    needs = frozenset({Needs.WIRE})
    summary = ("the bound instructions, or what the call wrote (call record, call log, lead, stream parameters, "
               "the session's tools), belong to a business other than the one dialled")
    why = ("The webhook falls back to the first active business for an unknown number while the WebSocket resolves "
           "another (hazard H12); the caller then talks to the wrong business's script, and the call's log and lead "
           "land in another tenant's books.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for info in view.calls.values():
            if info.business is None:
                continue
            for binding in info.bindings:
                if binding.instructions is None:
                    continue
                prov = view.prompt(binding.prompt_id)
                prov_ev = None
                if prov and prov.get("business_id") not in (None, info.business):
                    prov_ev = Evidence("provenance", f"prompt #{binding.prompt_id} was built for business "
                                       f"{prov['business_id']} but the call belongs to business {info.business}",
                                       view.prompt_seq(binding.prompt_id) + (binding.seq,),
                                       {"prompt_business": prov["business_id"], "call_business": info.business,
                                        "webhook_business": info.webhook_business, "ws_business": info.ws_business})
                foreign = {f"business:{b}:{f}" for b in view.business_ids() if b != info.business
                           for f in ("ai_prompt", "outbound_ai_prompt", "system_prompt")}
                own = PROMPT_FIELDS.get(info.direction or "inbound", "ai_prompt")
                content_ev = _content_evidence(view, info, binding, own, foreign)
                if prov_ev or content_ev:
                    proofs = [e for e in (prov_ev, content_ev) if e]
                    yield self.finding(view, info.sid, binding.t_us,
                                       f"call {info.sid} of business {info.business} was bound to another business's "
                                       f"instructions at {format_us(binding.t_us)}; proved by "
                                       f"{' and '.join(e.label for e in proofs)}", *proofs,
                                       proofs=[e.label for e in proofs])
                    break
        yield from self._side_effects(view)

    def _side_effects(self, view: TraceView) -> Iterable[Finding]:
        """One finding per call whose writes landed under another business than the dialled number's."""
        for call, (business, seq) in dialled_businesses(view).items():
            effects = side_effects(view, call, business)
            if not effects:
                continue
            written = ", ".join(f"{e.what} under business {e.business}" if e.business is not None
                                else f"{e.what} not configured for it" for e in effects)
            yield self.finding(view, call, effects[0].at_us,
                               f"call {call} to business {business} wrote {written}",
                               Evidence("dialled", f"the call's number belongs to business {business} in the "
                                        "scenario (the ground truth)", (seq,)), *(e.evidence for e in effects),
                               business_id=business, proofs=["side-effects"],
                               side_effects=[{"what": e.what, "business": e.business} for e in effects])


class ContaminationPersisted(BaseDetector):
    id = "contamination-persisted"
    needs = frozenset({Needs.WIRE})
    summary = "one business and direction kept receiving contaminated instructions for longer than the TTL"
    why = ("No TTL can end contamination that every new call rebuilds from the stored settings: the incident lasted "
           "20+ minutes across call-backs although the cache TTL is 10 minutes.")
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        groups: dict[tuple, list[ContaminatedSpan]] = {}
        for span in direction_spans(view):
            groups.setdefault((span.business_id, span.direction), []).append(span)
        for (business, direction), spans in sorted(groups.items(), key=lambda kv: kv[1][0].start_us):
            calls = list(dict.fromkeys(s.call for s in spans))
            if len(calls) < 2:
                continue
            start, end = min(s.start_us for s in spans), max(s.end_us for s in spans)
            length = end - start
            if length <= view.ttl_us:
                continue
            yield self.finding(
                view, calls[0], start,
                f"business {business} {direction} calls received contaminated instructions for {format_us(length)} "
                f"across {len(calls)} calls ({calls[0]} .. {calls[-1]}), {format_us(length - view.ttl_us)} past the "
                f"{format_us(view.ttl_us)} TTL: every new call rebuilt the same wrong prompt",
                Evidence("calls", ", ".join(f"{s.call} {format_us(s.start_us)}-{format_us(s.end_us)}" for s in spans),
                         tuple(s.binding.seq for s in spans)),
                business_id=business, first_call=calls[0], last_call=calls[-1], span_us=length,
                past_ttl_us=length - view.ttl_us, calls=calls)
