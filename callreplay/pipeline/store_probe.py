"""A probe step in-process: the model's store answers it, in the shape the probe's default fields read.

Live, a probe asks the user's server what it stored; in-process the stored state is the model's own
CallLog row and Lead list, so the same scenario's probe reads them and the detectors judge both alike.
"""

from __future__ import annotations

from typing import Any

from ..probes import result_data
from .context import PipelineContext
from .store import BusinessStore


def store_document(store: BusinessStore, call_sid: str) -> dict[str, Any] | None:
    """What the store holds for a call (None: nothing at all), keyed as ``probes.DEFAULT_PATHS`` reads it; the
    model's call record is its call-log row, so it is given once, as the call log."""
    row = store.call_logs.get(call_sid)
    lead_id, lead = next(((i + 1, lead) for i, lead in enumerate(store.leads) if lead.get("external_id") == call_sid),
                         (None, None))
    if row is None and lead is None:
        return None
    document: dict[str, Any] = {"call_sid": call_sid}
    if row is not None:
        document.update(direction=row.direction, twilio_direction=row.twilio_direction, status=row.call_status,
                        app_status=row.status, call_log={"business_id": row.business_id, "direction": row.direction,
                                  "status": row.call_status})
    document["lead"] = {"lead_id": lead_id, "business_id": lead.get("tenant_id")} if lead is not None else None
    return document


def probe_store(ctx: PipelineContext, call_sid: str, step_path: str) -> None:
    """Record the store's answer as a ``probe.result`` (the step's http/command name a live target's source)."""
    document = store_document(ctx.store, call_sid)
    ctx.emit(call_sid, "probe", "probe.result",
             **result_data(document, None, via="store", target="the model's call store", step=step_path,
                           elapsed_us=0))
