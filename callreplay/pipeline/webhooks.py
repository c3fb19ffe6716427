"""``routes_twilio.py`` (spec §3): the voice webhooks, their TwiML and their background threads.

TwiML is produced with the ``twilio`` package exactly as the real routes do. The daemon threads
(prompt pre-build, recording start, lead creation) become scheduler tasks at ``now + latency``,
which is what makes the pre-build/WebSocket race reproducible to the microsecond.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from twilio.twiml.voice_response import Connect, VoiceResponse

from .context import MissingPromptError, PipelineContext
from .directions import normalize_call_direction
from .policies import DontStore, PrebuildFacts
from .prompts import build_full_business_prompt
from .store import CallLog

COMPONENT = "webhook"
TERMINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled", "ended")


@dataclass
class WebhookResponse:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    stream_parameters: dict[str, str] | None = None


def _twiml_stream(ctx: PipelineContext, parameters: list[tuple[str, str]]) -> str:
    host = ctx.config.public_host
    response = VoiceResponse()
    connect = Connect(action=f"https://{host}/webhook/stream_ended")
    stream = connect.stream(url=f"wss://{host}/ws/twilio-media", track="inbound_track")
    for name, value in parameters:
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


class WebhookRequest(Protocol):
    """One HTTP request to a voice webhook, as the engine hands it to the model (a scenario's step fits)."""

    @property
    def route(self) -> str: ...
    @property
    def request_path(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def params(self) -> Mapping[str, str]: ...
    @property
    def query(self) -> Mapping[str, str]: ...


class Webhooks:
    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx

    def handle(self, step: WebhookRequest) -> WebhookResponse:
        ctx = self.ctx
        args = dict(step.query)
        form = dict(step.params) if step.method == "POST" else {}
        if step.method == "GET":
            args.update(step.params)
        call = form.get("CallSid") or args.get("CallSid") or None
        ctx.emit(call, COMPONENT, "webhook.request", route=step.route, path=step.request_path, method=step.method,
                 form=form, query=args)
        handler = getattr(self, f"_{step.route}", None) if step.route else None
        if handler is None:  # a path the modelled application does not serve: Flask answers 404
            response = WebhookResponse(404, "Not Found", {"Content-Type": "text/html; charset=utf-8"})
        else:
            response = handler(form if step.method == "POST" else args, args, call)
        ctx.emit(call, COMPONENT, "webhook.response", route=step.route, status=response.status, body=response.body,
                 content_type=response.headers.get("Content-Type"), stream_parameters=response.stream_parameters)
        return response

    # -- incoming_call (§3.1) ----------------------------------------------------------------------
    def _incoming_call(self, values: dict, args: dict, call: str | None) -> WebhookResponse:
        ctx = self.ctx
        store = ctx.store
        call_sid, from_, to = values.get("CallSid", ""), values.get("From", ""), values.get("To", "")
        direction, parent = values.get("Direction"), values.get("ParentCallSid")
        ctx.log(call, COMPONENT, "INFO", f"[GREETING_PROFILER] incoming_call START at {ctx.clock.epoch():.3f}")
        business = None
        business_id = None
        via = "none"
        if to:
            business = store.match_phone(to)
            via = "phone"
            if business is None:
                business = store.first_active()
                via = "first-active" if business else "none"
            business_id = business.id if business else None
        ctx.emit(call, COMPONENT, "webhook.business_resolved", to=to, business_id=business_id, via=via)
        limit = ctx.config.inbound_call_limit
        if business_id is not None and limit is not None:
            live = ctx.calls.live_calls(business_id)
            if live >= limit:
                ctx.log(call, COMPONENT, "WARNING", f"📵 INCOMING_CALL REJECTED: business {business_id} at limit")
                vr = VoiceResponse()
                vr.say("כל הנציגים תפוסים כרגע, אנא נסו שוב מאוחר יותר.", language="he-IL",
                       voice="Google.he-IL-Wavenet-C")
                vr.hangup()
                return WebhookResponse(200, str(vr), {"Content-Type": "application/xml"})
        if call_sid and from_:
            self._upsert_call_log(call_sid, from_, to, direction, parent, business, business_id)
        params = [("CallSid", call_sid), ("To", to or "unknown"), ("From", from_ or "unknown")]
        if business_id:
            params.append(("business_id", str(business_id)))
        body = _twiml_stream(ctx, params)
        if call_sid and business_id:
            self._schedule_prebuild(call_sid, business_id, "inbound", f"PromptBuild-{call_sid[:8]}")
        if call_sid:
            self._schedule_recording(call_sid)
        if from_:
            self._schedule_lead(call_sid, from_, to, business_id)
        ctx.registry.set_metric(call_sid, "twiml_ready_ts", ctx.clock.epoch(), actor=call)
        ctx.log(call, COMPONENT, "INFO", "[GREETING_PROFILER] incoming_call TwiML ready in 0ms")
        return WebhookResponse(200, body, {"Content-Type": "application/xml"}, dict(params))

    def _upsert_call_log(self, call_sid, from_, to, direction, parent, business, business_id) -> None:
        ctx = self.ctx
        logs = ctx.store.call_logs
        row = logs.get(call_sid)
        if row is None:
            if not to:
                # H13: ``business`` is never bound when To is empty; the create path raises and is logged
                ctx.log(call_sid, COMPONENT, "ERROR", "Failed to create/update call_log: cannot access local variable "
                        "'business' where it is not associated with a value")
                return
            row = CallLog(call_sid, business_id, from_, to or (business.phone_e164 if business else None) or "unknown",
                          normalize_call_direction(direction) if direction else "unknown", direction or None,
                          parent_call_sid=parent)
            logs[call_sid] = row
            ctx.log(call_sid, COMPONENT, "INFO", f"✅ Created CallLog: {call_sid}, direction={row.direction}, "
                    f"twilio_direction={row.twilio_direction}, parent={parent}")
        else:
            if not row.parent_call_sid:
                row.parent_call_sid = parent
            if direction and (not row.twilio_direction or row.direction == "unknown"):
                row.twilio_direction = direction
                row.direction = normalize_call_direction(direction)
            ctx.log(call_sid, COMPONENT, "INFO", "✅ Updated existing CallLog")
        ctx.emit(call_sid, COMPONENT, "calllog.upsert", direction=row.direction, twilio_direction=row.twilio_direction,
                 business_id=row.business_id)

    # -- outbound_call (§3.2) ----------------------------------------------------------------------
    def _outbound_call(self, values: dict, args: dict, call: str | None) -> WebhookResponse:
        ctx = self.ctx
        call_sid = values.get("CallSid", "")
        to = values.get("To") or args.get("To", "")
        from_ = values.get("From") or args.get("From", "")
        lead_id, lead_name = args.get("lead_id", ""), args.get("lead_name", "")
        business_id, business_name = args.get("business_id", ""), args.get("business_name", "")
        template_id = args.get("template_id", "")
        ctx.log(call, COMPONENT, "INFO", f"[GREETING_PROFILER] outbound_call START at {ctx.clock.epoch():.3f}")
        row = ctx.store.call_logs.get(call_sid)
        if row is not None:
            row.status, row.call_status = "in_progress", "in-progress"
        params = [("CallSid", call_sid), ("To", to or "unknown"), ("From", from_ or "unknown"),
                  ("direction", "outbound"), ("lead_id", lead_id), ("lead_name", lead_name),
                  ("business_id", business_id), ("business_name", business_name)]
        if template_id:
            params.append(("template_id", template_id))
        body = _twiml_stream(ctx, params)
        if call_sid and business_id:
            self._schedule_prebuild(call_sid, business_id, "outbound", f"PromptBuildOut-{call_sid[:8]}")
        if call_sid:
            self._schedule_recording(call_sid)
        ctx.registry.set_metric(call_sid, "twiml_ready_ts", ctx.clock.epoch(), actor=call)
        ctx.log(call, COMPONENT, "INFO", "[GREETING_PROFILER] outbound_call TwiML ready in 0ms")
        return WebhookResponse(200, body, {"Content-Type": "application/xml"}, dict(params))

    # -- stream_ended / call_status / stream_status (§3.3-3.5) -------------------------------------
    def _stream_ended(self, values: dict, args: dict, call: str | None) -> WebhookResponse:
        call_sid = values.get("CallSid") or values.get("callSid")
        if call_sid:
            self.ctx.calls.close_handler_from_webhook(call_sid, "webhook_stream_ended")
            self.ctx.scheduler.call_later(self.ctx.config.recording_start_latency_us, f"RecordingFetch-{call_sid[:8]}",
                                          lambda: self._list_recordings(call_sid))
        return WebhookResponse(204, "", {"Cache-Control": "no-store"})

    def _call_status(self, values: dict, args: dict, call: str | None) -> WebhookResponse:
        ctx = self.ctx
        call_sid, status = values.get("CallSid", ""), values.get("CallStatus", "")
        if status in TERMINAL_STATUSES:
            row = ctx.store.call_logs.get(call_sid)
            if row is not None:
                row.call_status = status
            ctx.calls.close_handler_from_webhook(call_sid, f"webhook_call_status_{status}")
            session = ctx.registry.get(call_sid, actor=call)
            session["ended"] = True  # H11: written to a copy, lost
            ctx.emit(call, COMPONENT, "registry.write_to_copy", sid=call_sid, key="ended")
        return WebhookResponse(204, "", {"Cache-Control": "no-cache, no-store"})

    def _stream_status(self, values: dict, args: dict, call: str | None) -> WebhookResponse:
        ctx = self.ctx
        call_sid = values.get("CallSid", "")
        row = ctx.store.call_logs.get(call_sid)
        if row is None and call_sid:
            first = ctx.store.first_active()
            direction = values.get("Direction")
            row = CallLog(call_sid, first.id if first else None, values.get("From", ""), values.get("To", ""),
                          normalize_call_direction(direction) if direction else "inbound", direction)
            ctx.store.call_logs[call_sid] = row
        if row is not None:
            row.status = values.get("Status") or "streaming"
        return WebhookResponse(200, "", {})

    # -- background "threads" ----------------------------------------------------------------------
    def _schedule_prebuild(self, call_sid: str, business_id, direction: str, name: str) -> None:
        ctx = self.ctx
        due = ctx.now + ctx.config.prebuild_latency_us
        ctx.emit(call_sid, "prebuild", "task.scheduled", task=name, due_us=due, direction=direction)
        app = ctx.calls
        app.prebuild_started(call_sid)

        def run() -> None:
            try:
                self._prebuild(call_sid, business_id, direction, name)
            finally:
                app.prebuild_finished(call_sid)

        ctx.scheduler.call_at(due, name, run)

    def _prebuild(self, call_sid: str, business_id, direction: str, name: str) -> None:
        ctx = self.ctx
        profile = ctx.profile
        registry = ctx.registry
        try:
            bid = int(business_id)
            prompt = build_full_business_prompt(ctx, bid, direction, call=call_sid, path="prebuild")
        except MissingPromptError as exc:
            ctx.log(call_sid, "prebuild", "ERROR", f"[PROMPT] Failed to pre-build {direction} prompt: {exc}")
            ctx.emit(call_sid, "prebuild", "prebuild.finished", task=name, stored=False, reason="missing-prompt")
            return
        except Exception as exc:
            ctx.log(call_sid, "prebuild", "DEBUG",
                    f"[PROMPT] Background {direction} prompt build failed (fallback to async build): {exc}")
            ctx.emit(call_sid, "prebuild", "prebuild.finished", task=name, stored=False, reason=type(exc).__name__)
            return
        verdict = profile.prebuild_store.decide(PrebuildFacts(call_sid, direction, bid, prompt))
        if isinstance(verdict, DontStore):
            ctx.log(call_sid, "prebuild", "WARNING", verdict.warning)
            ctx.emit(call_sid, "prebuild", "prebuild.finished", task=name, stored=False, reason=verdict.reason,
                     prompt_id=prompt.provenance.prompt_id)
            return
        key_sid = verdict.key_sid
        if verdict.atomic:
            registry.set_many(key_sid, dict(verdict.values), actor=call_sid)
        else:
            for key, value in verdict.values.items():
                registry.set_metadata(key_sid, key, value, actor=call_sid)
        suffix = f" hash={verdict.digest}" if verdict.digest else ""
        ctx.log(call_sid, "prebuild", "DEBUG", f"[PROMPT] Pre-built {direction} FULL prompt: len={len(prompt.text)}"
                f"{suffix}")
        ctx.emit(call_sid, "prebuild", "prebuild.finished", task=name, stored=True, key_sid=key_sid,
                 prompt_id=prompt.provenance.prompt_id)

    def _schedule_recording(self, call_sid: str) -> None:
        ctx = self.ctx
        ctx.scheduler.call_later(ctx.config.recording_start_latency_us, f"RecordingStart-{call_sid[:8]}",
                                 lambda: self._start_recording(call_sid))

    def _start_recording(self, call_sid: str) -> None:
        ctx = self.ctx
        ctx.print(call_sid, "recording", f"[REC_START] starting dual-channel recording for {call_sid}")
        try:
            rec = ctx.http.twilio(call_sid).calls(call_sid).recordings.create(
                recording_channels="dual",
                recording_status_callback=f"https://{ctx.config.public_host}/webhook/recording_status",
                recording_status_callback_event=["completed"])
        except Exception as exc:  # the real thread logs and carries on
            ctx.log(call_sid, "recording", "ERROR", f"[REC_START] FAILED {call_sid}: {exc}")
            return
        row = ctx.store.call_logs.get(call_sid)
        if row is not None:
            row.recording_sid, row.recording_mode = rec.sid, "RECORDING_API"
            row.recording_count += 1
        ctx.log(call_sid, "recording", "INFO", f"[REC_START] SUCCESS {call_sid} recording_sid={rec.sid}")

    def _list_recordings(self, call_sid: str) -> None:
        try:
            self.ctx.http.twilio(call_sid).calls(call_sid).recordings.list(limit=5)
        except Exception as exc:
            self.ctx.log(call_sid, "recording", "ERROR", f"[REC_FETCH] FAILED {call_sid}: {exc}")

    def _schedule_lead(self, call_sid: str, from_: str, to: str, business_id) -> None:
        ctx = self.ctx

        def create() -> None:
            bid = business_id
            if bid is None and to:
                b = ctx.store.match_phone(to) or ctx.store.first_active()
                bid = b.id if b else None
            lead = {"tenant_id": bid, "phone_e164": from_, "source": "call", "external_id": call_sid,
                    "status": "new", "notes": f"שיחה נכנסת - {call_sid}"}
            ctx.store.leads.append(lead)
            row = ctx.store.call_logs.get(call_sid)
            if row is not None:
                row.lead_id, row.status = len(ctx.store.leads), "in_progress"
            ctx.emit(call_sid, "leads", "lead.created", tenant_id=bid, lead_id=len(ctx.store.leads))

        ctx.scheduler.call_later(ctx.config.lead_creation_latency_us, f"LeadCreation-{call_sid[:8]}", create)
