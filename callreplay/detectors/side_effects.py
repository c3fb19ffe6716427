"""Tenant contamination beyond the prompt: what the application wrote, or handed on, under another business.

The ground truth is the scenario's dialled number (``callreplay.scenario.dialled``), never what the
application resolved. The side effects judged: the call record, call log and lead a probe step read
(live: the target; in-process: the model's store), and the ``business_id`` stream parameter the TwiML
handed the media socket, unless the call then shows it used the dialled business anyway: the model's
WebSocket resolver identified it, or the instructions bound on the call carry that business's own prompt;
and the session's tools (``tool_tenancy``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..durations import format_us
from ..scenario.dialled import dialled_business
from .base import Evidence
from .state import bound_stream_parameters
from .tool_tenancy import tool_effects
from .view import PROMPT_FIELDS, ROUTE_DIRECTION, CallInfo, TraceView

WRITTEN = {"business": "the call record", "call_log_business": "the call log", "lead_business": "the lead"}


@dataclass(frozen=True)
class SideEffect:
    what: str          # call record | call log | lead | stream parameter | tools
    business: object   # the business it was written under (tools: the one they name, or None)
    at_us: int
    evidence: Evidence


def dialled_businesses(view: TraceView) -> dict[str, tuple[int, int]]:
    """CallSid -> (the business of the dialled number, the trace event it was read from)."""
    truth: dict[str, tuple[int, int]] = {}
    for e in view.events("call.business_expected"):  # live mode records it when the call starts
        if e.call and e.data.get("business_id") is not None:
            truth.setdefault(e.call, (e.data["business_id"], e.seq))
    for e in view.events("webhook.request"):
        route = e.data.get("route")
        if not e.call or e.call in truth or route not in ROUTE_DIRECTION:
            continue
        values = {**(e.data.get("query") or {}), **(e.data.get("form") or {})}
        hint = (e.data.get("query") or {}).get("business_id") if route == "outbound_call" else None
        business = dialled_business(view.scenario.businesses, ROUTE_DIRECTION[route], values.get("From", ""),
                                    values.get("To", ""), hint or None)
        if business is not None:
            truth[e.call] = (business, e.seq)
    return truth


def _foreign(value: object, truth: int) -> bool:
    return value is not None and value != "" and str(value) != str(truth)


def _used_dialled_business(view: TraceView, info: CallInfo | None, truth: int) -> bool:
    """Whether the call evidently ran on the dialled business despite what its stream parameters said."""
    if info is None:
        return False
    if info.ws_business == truth:
        return True
    own = PROMPT_FIELDS.get(info.direction or "inbound", "ai_prompt")
    return any(b.instructions and own in view.content_attribution(b.instructions, truth, b.t_us).present
               for b in info.bindings)


def side_effects(view: TraceView, call: str, truth: int) -> list[SideEffect]:
    """Everything of this call that landed under a business other than ``truth``, earliest first."""
    found: list[SideEffect] = []
    seen: set[str] = set()
    for e in view.events("probe.result"):
        if e.call != call or not e.data.get("found"):
            continue
        for field_name, what in WRITTEN.items():
            value = e.data.get(field_name)
            if what not in seen and _foreign(value, truth):
                seen.add(what)
                found.append(SideEffect(what, value, e.t_us, Evidence(
                    "side-effect", f"{what} is stored under business {value} ({e.data.get('via')} "
                    f"{e.data.get('target')} at {format_us(e.t_us)})", (e.seq,),
                    {"what": what, "business": value, "dialled_business": truth})))
    if not _used_dialled_business(view, view.calls.get(call), truth):
        for e, params in bound_stream_parameters(view):
            value = params.get("business_id")
            if e.call == call and "stream parameter" not in seen and _foreign(value, truth):
                seen.add("stream parameter")
                found.append(SideEffect("stream parameter", value, e.t_us, Evidence(
                    "side-effect", f"the TwiML handed the media socket business_id={value}", (e.seq,),
                    {"what": "stream parameter", "business": value, "dialled_business": truth})))
    found += [SideEffect("tools", named, at_us, evidence) for at_us, named, evidence in tool_effects(view, call, truth)]
    return sorted(found, key=lambda s: s.at_us)
