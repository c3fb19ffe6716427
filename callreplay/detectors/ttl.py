"""Prompts that outlive the prompt-cache TTL, and a cache that serves expired entries.

The prompt cache retires an entry after its TTL (§5), but the per-call registry has none (§6):
a prompt parked there drives the call for as long as the call lasts. ``prompt-outlived-ttl``
measures that directly from the bindings and the response turns that used them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..durations import format_us
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .view import Binding, CallInfo, TraceView

PROMPT_RELEVANT = ("ai_prompt", "outbound_ai_prompt", "system_prompt", "name", "call_goal",
                   "enable_calendar_scheduling", "slot_size_min")


def stale_since(view: TraceView, business_id: int | None, built_us: int, until_us: int) -> tuple[int, int] | None:
    """When the settings the prompt was built from changed in a way that matters: (time, trace seq)."""
    for change in view.settings_changes:
        if change.t_us <= built_us or change.t_us >= until_us or change.data["business_id"] != business_id:
            continue
        before = view.configured(business_id, change.t_us - 1)
        if any(k in PROMPT_RELEVANT and before.get(k) != v for k, v in change.data["changes"].items()):
            return change.t_us, change.seq
    return None


def _as_sent(info: CallInfo, binding: Binding) -> dict | None:
    """With no provenance (a live server), a prompt's age counts from when its text was first sent on the call."""
    if binding.prompt_id is not None or binding.instructions is None:
        return None
    first = next(b for b in info.bindings if b.instructions == binding.instructions)
    return {"built_at_us": first.t_us, "path": "first sent", "source_field": "the instructions as sent",
            "business_id": info.business}


class PromptOutlivedTtl(BaseDetector):
    id = "prompt-outlived-ttl"
    needs = frozenset({Needs.WIRE})
    summary = "a prompt kept driving a call past the prompt-cache TTL because it was held where nothing expires it"
    why = ("The stream registry has no TTL: whatever was parked at the webhook drives the whole call. An error when "
           "the settings changed meanwhile and the call never saw the fix.")
    severity = Severity.WARNING

    def check(self, view: TraceView) -> Iterable[Finding]:
        ttl = view.ttl_us
        for info in view.calls.values():
            for i, binding in enumerate(info.bindings):
                prompt = view.prompt(binding.prompt_id) or _as_sent(info, binding)
                if prompt is None:
                    continue
                nxt = info.bindings[i + 1].t_us if i + 1 < len(info.bindings) else view.call_end_us(info.sid)
                built = prompt["built_at_us"]
                expiry = built + ttl
                if nxt <= expiry:
                    continue
                turns = [t for t in info.turns if t.data.get("prompt_id") == binding.prompt_id]
                late = [t for t in turns if t.t_us > expiry]
                stale = stale_since(view, prompt.get("business_id"), built, nxt)
                severity = Severity.WARNING
                origin = (f"prompt #{binding.prompt_id} built at" if binding.prompt_id is not None
                          else "instructions first sent at")
                evidence = [Evidence("prompt", f"{origin} {format_us(built)} "
                                     f"({prompt['path']}, {prompt['source_field']}); the TTL would have retired it at "
                                     f"{format_us(expiry)}; still bound at {format_us(nxt)}",
                                     view.prompt_seq(binding.prompt_id) + (binding.seq,))]
                details = {"built_at_us": built, "ttl_expiry_us": expiry, "stale_at_us": None,
                           "outlived_us": nxt - expiry, "used_until_us": nxt, "turns": len(turns),
                           "turns_after_ttl": len(late), "prompt_id": binding.prompt_id}
                if stale:
                    details["stale_at_us"] = stale[0]
                    evidence.append(Evidence("stale", f"the settings changed at {format_us(stale[0])}; the call kept "
                                             f"the old prompt for {format_us(nxt - stale[0])} after that",
                                             (stale[1],)))
                    if nxt - stale[0] > ttl:
                        severity = Severity.ERROR
                if late:
                    evidence.append(Evidence("turns", f"{len(late)} response turns after {format_us(expiry)} used it",
                                             tuple(t.seq for t in late[:20])))
                what = (f"prompt #{binding.prompt_id} (built {format_us(built)})" if binding.prompt_id is not None
                        else f"the instructions it was first sent at {format_us(built)}")
                yield self.finding(
                    view, info.sid, expiry,
                    f"call {info.sid} used {what} until "
                    f"{format_us(nxt)}: {format_us(nxt - expiry)} past the {format_us(ttl)} TTL"
                    + (f", stale since {format_us(stale[0])}" if stale else "") + f"; {len(late)} of {len(turns)} "
                    "response turns came after the TTL", *evidence, severity=severity, **details)


class CacheServedExpired(BaseDetector):
    id = "cache-served-expired"
    summary = "the prompt cache returned an entry older than its TTL"
    why = "The cache's expiry rule is strict (age > TTL expires); serving older entries keeps stale prompts alive."
    severity = Severity.ERROR

    def check(self, view: TraceView) -> Iterable[Finding]:
        for e in view.events("cache.get"):
            d = e.data
            if d["result"] == "hit" and d["age_us"] > d["ttl_us"]:
                yield self.finding(view, e.call, e.t_us,
                                   f"cache {d['key']} served prompt #{d.get('prompt_id')} at age {format_us(d['age_us'])},"
                                   f" past its {format_us(d['ttl_us'])} TTL",
                                   Evidence("cache", f"HIT for {d['key']} at age {d['age_us']} us > TTL {d['ttl_us']} us",
                                            (e.seq,), dict(d)), key=d["key"], age_us=d["age_us"])
