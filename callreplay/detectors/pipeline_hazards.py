"""Hazards of the prompt path itself: fallbacks, ignored mismatches, races, missing prompts."""

from __future__ import annotations

from collections.abc import Iterable

from ..durations import format_us
from .base import BaseDetector, Evidence, Finding, Needs, Severity
from .server_log import call_of, tagged_lines
from .view import TraceView

FROM_SERVER_LOG = (frozenset({Needs.LOGS}),)  # live mode: the target's captured log, by the spec's tags

OTHER = {"inbound": "outbound", "outbound": "inbound"}


class CrossDirectionFallback(BaseDetector):
    id = "cross-direction-fallback"
    summary = "the prompt builder fell back to the other direction's prompt source"
    why = "Root cause 1 of the incident: an empty inbound prompt silently borrowed the outbound one."
    severity = Severity.WARNING
    needs_instead = FROM_SERVER_LOG

    def check(self, view: TraceView) -> Iterable[Finding]:
        if view.mode == "live":
            yield from self._logged(view)
            return
        part_d = [e for e in view.events("prompt.built") if e.data["path"] == "part-d"]
        for e in view.events("prompt.built"):
            d = e.data
            if d["path"] == "part-d" or d.get("source_direction") != OTHER.get(d["requested_direction"]):
                continue
            twins = [p.seq for p in part_d if p.call == e.call and p.data.get("source_direction") == d["source_direction"]]
            evidence = [Evidence("build", f"builder {d['builder']} ({d['path']}) for {d['requested_direction']} took "
                                 f"{d['source_field']} (fallback: {d.get('fallback')})", (e.seq,),
                                 {"prompt_id": d["prompt_id"], "source_field": d["source_field"]})]
            if twins:
                evidence.append(Evidence("part-d", "the WebSocket's dead PART D build took the same fallback again "
                                         "(the second [PROMPT FALLBACK] line of the call)", tuple(twins)))
            yield self.finding(view, e.call, e.t_us, f"{d['requested_direction']} prompt #{d['prompt_id']} for business "
                               f"{d['business_id']} was built from {d['source_field']} ({d['path']})", *evidence,
                               business_id=d["business_id"], prompt_id=d["prompt_id"], path=d["path"])

    def _logged(self, view: TraceView) -> Iterable[Finding]:
        """The server said so itself: ``[PROMPT FALLBACK] Using outbound prompt as fallback for inbound ...``."""
        for e, groups in tagged_lines(view, "prompt_fallback"):
            used, requested = groups.get("used"), groups.get("requested")
            if requested is None or used != OTHER.get(requested):
                continue
            business = int(groups["business_id"]) if groups.get("business_id", "").isdigit() else None
            call = call_of(view, e, None)
            if call is None and business is not None and business not in {view.business_of(c) for c in view.calls}:
                continue  # a line about another replay's business (calls ran side by side on one server)
            yield self.finding(view, call, e.t_us, f"the server built the {requested} prompt "
                               f"of business {business} from its {used} prompt (its own log says so)",
                               Evidence("log", str(e.data.get("message", ""))[:300], (e.seq,)),
                               business_id=business, source="server-log")


class MismatchIgnored(BaseDetector):
    id = "mismatch-ignored"
    summary = "the pipeline detected a direction mismatch and carried on without rebuilding"
    why = "Root cause 3: the HARD LOCK check logged [PROMPT_MISMATCH] ... action=CONTINUE_NO_REBUILD and kept the prompt."
    severity = Severity.ERROR
    needs_instead = FROM_SERVER_LOG

    def check(self, view: TraceView) -> Iterable[Finding]:
        if view.mode == "live":
            yield from self._logged(view)
            return
        for e in view.events("prompt.mismatch_check"):
            d = e.data
            if d["mismatch"] and d["action"] == "continue":
                yield self.finding(view, e.call, e.t_us, f"call {e.call}: prompt looked {d['detected']} for a "
                                   f"{d['expected']} call ({d['method']} check) and was kept",
                                   Evidence("check", f"{d['method']} check: expected={d['expected']} "
                                            f"detected={d['detected']} action={d['action']}", (e.seq,), dict(d)))

    def _logged(self, view: TraceView) -> Iterable[Finding]:
        """The server said so itself: ``[PROMPT_MISMATCH] ... action=CONTINUE_NO_REBUILD``."""
        for e, groups in tagged_lines(view, "prompt_mismatch"):
            if groups.get("action") != "CONTINUE_NO_REBUILD":
                continue
            call = call_of(view, e, groups.get("call_sid"))
            yield self.finding(view, call, e.t_us, f"call {call}: the server found its prompt looked "
                               f"{groups.get('prebuilt')} for a {groups.get('expected')} call and kept it "
                               "(its own log says so)",
                               Evidence("log", str(e.data.get("message", ""))[:300], (e.seq,)),
                               source="server-log")


class PrebuildRace(BaseDetector):
    id = "prebuild-race"
    summary = "the socket bound a prompt before the webhook's pre-build finished"
    why = "Hazard H3/R3: the call ran on a fallback (greeting text, minimal sentence) or a rebuilt prompt."
    severity = Severity.WARNING

    def check(self, view: TraceView) -> Iterable[Finding]:
        loaded = {e.call: e for e in view.events("prompt.loaded")}
        for e in view.events("prompt.registry_read"):
            if e.data["found"] or not e.data["prebuild_pending"]:
                continue
            bound = loaded.get(e.call)
            prompt = view.prompt(bound.data["prompt_id"]) if bound else None
            what = f"{prompt['builder']} ({prompt['path']}, {prompt['source_field']})" if prompt else "nothing"
            done = next((f for f in view.events("prebuild.finished") if f.call == e.call and f.t_us >= e.t_us), None)
            evidence = [Evidence("read", f"the registry was read at {format_us(e.t_us)} while the pre-build was still "
                                 "running", (e.seq,))]
            if done:
                evidence.append(Evidence("prebuild", f"the pre-build finished at {format_us(done.t_us)}, "
                                         f"{format_us(done.t_us - e.t_us)} too late", (done.seq,)))
            yield self.finding(view, e.call, e.t_us, f"call {e.call} read the registry before its pre-build finished "
                               f"and was bound to {what}", *evidence)


FALLBACK_KINDS = ("generic-template", "direction-agnostic", "absolute-minimal", "default-hebrew", "missing-prebuilt")


class MissingPrompt(BaseDetector):
    id = "missing-prompt"
    summary = "a prompt was missing when the call needed it (warning when a fallback was served instead of failing)"
    why = "A missing prompt should fail loudly; serving a greeting, a generic template or a cached text hides it."
    severity = Severity.INFO

    def check(self, view: TraceView) -> Iterable[Finding]:
        loaded = {e.call: e for e in view.events("prompt.loaded")}
        for e in view.events("prompt.missing"):
            bound = loaded.get(e.call)
            prompt = view.prompt(bound.data["prompt_id"]) if bound else None
            served = None
            how = []  # why what was served is not a prompt built for this call: a fallback, the cache, or both
            if prompt and prompt.get("fallback") in FALLBACK_KINDS:
                how.append(prompt["fallback"])
            if prompt and bound is not None and bound.data.get("path") == "cache":
                hit = next(c for c in reversed(view.events("cache.get")) if c.call == e.call
                           and c.data["result"] == "hit" and c.t_us <= bound.t_us)
                how.append(f"cached {format_us(hit.data['age_us'])} old")
            if how and prompt:
                served = f"{prompt['builder']} {prompt['source_field']} ({', '.join(how)})"
            severity = Severity.WARNING if served else Severity.INFO
            outcome = f"served {served} instead of failing" if served else (
                "the call was failed" if e.data["action"] == "fail" else "a prompt was rebuilt")
            yield self.finding(view, e.call, e.t_us, f"call {e.call}: no pre-built prompt in the registry; {outcome}",
                               Evidence("missing", f"action={e.data['action']}", (e.seq,) + (
                                   (bound.seq,) if bound else ())), severity=severity, served=served)
