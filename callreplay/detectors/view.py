"""A read-only index over one replay's trace: calls, prompts, bindings and configured texts.

Detectors are pure functions of this view. It answers the questions several of them share
(what is the true direction of a call, what was bound when, what did the settings say at that
moment) once, from the trace and the scenario's business section only, so the same detectors
work on recordings that carry no provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..pipeline.constants import FIELD_OF_DIRECTION
from ..scenario.model import BusinessSpec, Scenario
from ..trace import Trace, TraceEvent
from .fingerprint import attribute

PROMPT_FIELDS = FIELD_OF_DIRECTION
ROUTE_DIRECTION = {"incoming_call": "inbound", "outbound_call": "outbound"}


@dataclass
class Binding:
    """The session of a call was given these instructions at ``t_us`` (a session.update, or a re-validation)."""

    seq: int
    t_us: int
    prompt_id: int | None
    instructions: str | None  # None for a re-validation that sent nothing on the wire
    reason: str


@dataclass
class CallInfo:
    sid: str
    direction: str | None = None          # the truth: the webhook route that created the call
    direction_source: str | None = None   # webhook | ws-parameter
    webhook_business: int | None = None
    ws_business: int | None = None
    webhook_seq: int | None = None
    started_us: int | None = None
    ended_us: int | None = None
    end_reason: str | None = None
    locked_direction: str | None = None
    bindings: list[Binding] = field(default_factory=list)
    turns: list[TraceEvent] = field(default_factory=list)
    ended_seq: int | None = None

    @property
    def business(self) -> int | None:
        return self.ws_business if self.ws_business is not None else self.webhook_business


class TraceView:
    def __init__(self, trace: Trace, scenario: Scenario) -> None:
        self.trace = trace
        self.scenario = scenario
        start = next((e for e in trace.events if e.kind == "replay.start"), None)
        self.ttl_us: int = (start.data.get("prompt_cache_ttl_us") if start else None) or 600_000_000
        self.mode: str = (start.data.get("mode") if start else None) or "in-process"
        self.end_us = trace.events[-1].t_us if trace.events else 0
        self.calls: dict[str, CallInfo] = {}
        self.prompts: dict[int, TraceEvent] = {}
        self.by_kind: dict[str, list[TraceEvent]] = {}
        self.settings_changes: list[TraceEvent] = []
        self._attributions: dict[tuple, Any] = {}
        self._index()

    def _call(self, sid: str) -> CallInfo:
        info = self.calls.get(sid)
        if info is None:
            info = self.calls[sid] = CallInfo(sid)
        return info

    def _index(self) -> None:
        for e in self.trace.events:
            self.by_kind.setdefault(e.kind, []).append(e)
            k, d = e.kind, e.data
            if k == "prompt.built":
                self.prompts[d["prompt_id"]] = e
            elif k == "settings.changed":
                self.settings_changes.append(e)
            if not e.call:
                continue
            if k == "webhook.request" and d.get("route") in ROUTE_DIRECTION:
                info = self._call(e.call)
                if info.direction is None:
                    info.direction, info.direction_source = ROUTE_DIRECTION[d["route"]], "webhook"
                    info.webhook_seq = e.seq
            elif k == "webhook.business_resolved":
                self._call(e.call).webhook_business = d.get("business_id")
            elif k == "call.business_expected":  # live mode: the business of the dialled number (ground truth)
                info = self._call(e.call)
                if info.webhook_business is None:
                    info.webhook_business = d.get("business_id")
            elif k == "call.started":
                info = self._call(e.call)
                info.started_us = e.t_us
                if info.direction is None:
                    params = d.get("custom_parameters") or {}
                    info.direction, info.direction_source = params.get("direction", "inbound"), "ws-parameter"
                if info.webhook_business is None and (d.get("custom_parameters") or {}).get("business_id"):
                    try:
                        info.webhook_business = int(d["custom_parameters"]["business_id"])
                    except ValueError:
                        pass
            elif k == "call.direction_locked":
                self._call(e.call).locked_direction = d["direction"]
            elif k == "call.business_identified":
                self._call(e.call).ws_business = d["business_id"]
            elif k == "realtime.session_update":
                self._call(e.call).bindings.append(Binding(e.seq, e.t_us, d.get("prompt_id"), d["instructions"],
                                                           d.get("reason", "initial")))
            elif k == "realtime.prompt_revalidated":
                self._call(e.call).bindings.append(Binding(e.seq, e.t_us, d.get("prompt_id"), None, d["reason"]))
            elif k == "realtime.response_created":
                self._call(e.call).turns.append(e)
            elif k == "call.ended":
                info = self._call(e.call)
                info.ended_us, info.end_reason, info.ended_seq = e.t_us, d.get("reason"), e.seq

    # -- lookups ------------------------------------------------------------------------------------
    def events(self, kind: str) -> list[TraceEvent]:
        return self.by_kind.get(kind, [])

    def business_of(self, call: str | None) -> int | None:
        info = self.calls.get(call) if call else None
        return info.business if info else None

    def prompt(self, prompt_id: int | None) -> dict[str, Any] | None:
        event = self.prompts.get(prompt_id) if prompt_id is not None else None
        return event.data if event else None

    def prompt_seq(self, prompt_id: int | None) -> tuple[int, ...]:
        event = self.prompts.get(prompt_id) if prompt_id is not None else None
        return (event.seq,) if event else ()

    def first_model_audio(self) -> dict[str, int]:
        """When each call's first model audio went out to Twilio (calls that got none are absent)."""
        first: dict[str, int] = {}
        for e in self.events("ws.out"):
            if e.data.get("event") == "media" and e.call and e.call not in first:
                first[e.call] = e.t_us
        return first

    def call_end_us(self, call: str) -> int:
        info = self.calls.get(call)
        return info.ended_us if info and info.ended_us is not None else self.end_us

    # -- configured texts over time -----------------------------------------------------------------
    def business_spec(self, business_id: int | None) -> BusinessSpec | None:
        """The scenario's business of that id, as configured before any settings step."""
        return next((b for b in self.scenario.businesses if b.id == business_id), None)

    def configured(self, business_id: int | None, at_us: int) -> dict[str, Any]:
        """The business's name and prompt fields as they stood at ``at_us`` (scenario plus changes)."""
        spec = self.business_spec(business_id)
        if spec is None:
            return {}
        values = {"name": spec.name, "system_prompt": spec.system_prompt, "greeting": spec.greeting,
                  **(spec.settings or {})}
        for change in self.settings_changes:
            if change.t_us > at_us:
                break
            if change.data["business_id"] == business_id:
                values.update(change.data["changes"])
        return values

    def business_ids(self) -> list[int]:
        return [b.id for b in self.scenario.businesses]

    def content_attribution(self, instructions: str, business_id: int | None, at_us: int):
        """Which configured prompt fields (of every business) the instructions contain (memoised per view)."""
        changes_so_far = sum(1 for c in self.settings_changes if c.t_us <= at_us)
        key = (instructions, business_id, changes_so_far)
        cached = self._attributions.get(key)
        if cached is None:
            cached = self._attributions[key] = self._attribute(instructions, business_id, at_us)
        return cached

    def _attribute(self, instructions: str, business_id: int | None, at_us: int):
        sources: dict[str, str | None] = {}
        names = {}
        for bid in self.business_ids():
            values = self.configured(bid, at_us)
            names[bid] = values.get("name") or "Business"
            own = bid == business_id
            for field_name in ("ai_prompt", "outbound_ai_prompt", "system_prompt"):
                label = field_name if own else f"business:{bid}:{field_name}"
                sources[label] = values.get(field_name)
        name = names.get(business_id, "Business") if business_id is not None else "Business"
        return attribute(instructions, sources, name)
