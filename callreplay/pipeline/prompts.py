"""The prompt builders (spec §4): A (full business prompt, used by pre-builds), B (cached router),
C/D (inbound/outbound system prompts) and B's direction-agnostic error path.

Every builder returns a :class:`BuiltPrompt` whose provenance records the source field and the
direction that field belongs to; the texts and log lines are the spec's. Profile switches select
the BUGGY or FIX behaviour where they differ.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import prompt_text as pt
from .constants import DIRECTION_OF_FIELD
from .context import BuiltPrompt, MissingPromptError, PipelineContext
from .policies import Refuse

FIELD_DIRECTION = DIRECTION_OF_FIELD
COMPONENT = "prompt_builder"


def _setting(settings: Any, name: str | None) -> Any:
    return getattr(settings, name, None) if settings is not None and name is not None else None


def build_full_business_prompt(ctx: PipelineContext, business_id: int | None, call_direction: str, *,
                               call: str | None, path: str) -> BuiltPrompt:
    """Builder A. BUGGY: cross-direction fallback chain; FIX: raises MissingPromptError instead."""
    source = ctx.profile.prompt_source
    store = ctx.store
    business = store.get(business_id)
    settings = store.settings_for(business_id)
    version = store.settings_version(business_id)
    if business is None:
        ctx.log(call, COMPONENT, "WARNING", f"⚠️ [FULL_BUSINESS] Business {business_id} not found")
        return ctx.record_prompt(call, BuiltPrompt("", ctx.new_provenance(
            business_id=business_id, builder="A", requested_direction=call_direction, source_field=None,
            source_direction=None, settings_version=version, path=path, fallback="business-not-found")))
    name = business.name or "Business"
    label = "OUTBOUND" if call_direction == "outbound" else "INBOUND"
    field: str | None = source.primary_field(call_direction)
    raw = _setting(settings, field) or ""
    text = source.extract(name, raw)
    fallback = None
    if not text.strip():
        present = {"ai_prompt": bool(_setting(settings, "ai_prompt")),
                   "outbound_ai_prompt": bool(_setting(settings, "outbound_ai_prompt")),
                   "system_prompt": bool(business.system_prompt)}
        verdict = source.on_empty(call_direction, business_id, present)
        if isinstance(verdict, Refuse):  # §13.1 item 1: the prefix is the log line's, not the exception's
            ctx.log(call, COMPONENT, "ERROR", f"[PROMPT ERROR] {verdict.message}")
            raise MissingPromptError(verdict.message)
        ctx.log(call, COMPONENT, "ERROR",
                f"[PROMPT ERROR] Missing business prompt for business_id={business_id} direction={call_direction}")
        if verdict.warning:
            ctx.log(call, COMPONENT, "WARNING", verdict.warning)
        field, fallback = verdict.field, verdict.fallback
        raw = (business.system_prompt if field == "system_prompt" else _setting(settings, field)) if field else ""
        text = source.extract(name, raw)
        if not text.strip():
            ctx.log(call, COMPONENT, "ERROR",
                    f"[PROMPT ERROR] No prompts available for business_id={business_id} - configuration required")
            return ctx.record_prompt(call, BuiltPrompt("", ctx.new_provenance(
                business_id=business_id, builder="A", requested_direction=call_direction, source_field=field,
                source_direction=FIELD_DIRECTION.get(field or ""), settings_version=version, path=path,
                fallback=fallback)))
    appointment = ""
    if source.appointment_live and settings is not None and \
            _setting(settings, "call_goal") == "appointment" and _setting(settings, "enable_calendar_scheduling"):
        appointment = pt.appointment_block(_now_local(ctx, settings), _setting(settings, "slot_size_min") or 60,
                                           with_tools=False)
    assert business_id is not None  # a business was found for it
    full = pt.builder_a_layout(pt.universal_rules(call_direction), appointment, business_id, name, label, text,
                               call_direction)
    ctx.log(call, COMPONENT, "INFO",
            f"✅ [FULL_BUSINESS] Built complete prompt: {len(full)} chars (system + appointment + business)")
    return ctx.record_prompt(call, BuiltPrompt(full, ctx.new_provenance(
        business_id=business_id, builder="A", requested_direction=call_direction, source_field=field,
        source_direction=FIELD_DIRECTION.get(field or ""), settings_version=version, path=path, fallback=fallback)))


def _now_local(ctx: PipelineContext, settings) -> datetime:
    """``datetime.now(tz)``: freezegun holds it at the virtual instant during a replay."""
    return datetime.now(ZoneInfo(_setting(settings, "timezone") or ctx.timezone))


def build_realtime_system_prompt(ctx: PipelineContext, business_id: int | None, call_direction: str, *,
                                 use_cache: bool, call: str | None, path: str, strict: bool = False) -> BuiltPrompt:
    """Builder B: the cached router to C/D; its error path is the direction-agnostic fallback.

    ``strict`` makes C/D raise on a blank body whatever the profile's builders say (a fail-closed rebuild).
    """
    cache = ctx.cache
    if use_cache:
        cached = cache.get(business_id, call_direction, call=call)
        if cached is not None:
            ctx.log(call, COMPONENT, "INFO",
                    f"✅ [PROMPT CACHE HIT] Returning cached prompt for business {business_id} ({call_direction})")
            # the entry's own provenance, marked as served from the cache (same prompt id, path "cache")
            return BuiltPrompt(cached.system_prompt, dataclasses.replace(cached.provenance, path="cache"))
    ctx.log(call, COMPONENT, "INFO",
            f"🔥 [PROMPT ROUTER] Called for business_id={business_id}, direction={call_direction}")
    try:
        if not ctx.config.ws_rebuild_app_context and path in ("rebuild", "refresh"):
            raise RuntimeError("Working outside of application context.")
        business = ctx.store.get(business_id)
        if business is None:
            raise ValueError(f"Business {business_id} not found")
        settings = ctx.store.settings_for(business_id)
        ctx.log(call, COMPONENT, "INFO",
                f"[BUSINESS_ISOLATION] prompt_request business_id={business_id} direction={call_direction}")
        if call_direction == "outbound":
            ctx.log(call, COMPONENT, "INFO", "📤 [PROMPT_ROUTER] Building OUTBOUND prompt")
            result = _build_outbound(ctx, business, settings, call=call, path=path, strict=strict)
        else:
            ctx.log(call, COMPONENT, "INFO", "📞 [PROMPT_ROUTER] Building INBOUND prompt")
            result = _build_inbound(ctx, business, settings, call_direction, call=call, path=path, strict=strict)
    except MissingPromptError:
        raise
    except Exception:
        return get_fallback_prompt(ctx, business_id, call_direction, call=call, path=path)
    if use_cache and ctx.profile.builders.cacheable(result):
        cache.set(business_id, call_direction, result, greeting=(business.greeting_message or ""), call=call)
        ctx.log(call, COMPONENT, "INFO",
                f"💾 [PROMPT CACHE STORE] business {business_id} ({call_direction}) {len(result.text)} chars")
    return result


def _build_inbound(ctx: PipelineContext, business, settings, call_direction: str, *, call, path,
                   strict: bool) -> BuiltPrompt:
    """Builder C. No cross-direction fallback; a blank body takes the inbound template (or raises, hardened)."""
    name = business.name or "Business"
    version = ctx.store.settings_version(business.id)
    appointment = ""
    goal = _setting(settings, "call_goal") or "lead_only"
    calendar = _setting(settings, "enable_calendar_scheduling")
    if goal == "appointment" and (True if calendar is None else calendar):
        appointment = pt.appointment_block(_now_local(ctx, settings), _setting(settings, "slot_size_min") or 60,
                                           with_tools=True)
    raw = _setting(settings, "ai_prompt")
    if ctx.profile.builders.strip_inbound and raw:
        raw = raw.strip()
    body = pt.extract_for_builder_c(name, raw)
    field, fallback, source = "ai_prompt", None, "ui"
    if not body.strip():
        ctx.log(call, COMPONENT, "ERROR", f"[PROMPT ERROR] No business prompt available for inbound business_id={business.id}")
        if strict or ctx.profile.builders.on_blank("inbound") == "raise":
            raise MissingPromptError(f"no inbound prompt for business_id={business.id}")
        ctx.log(call, COMPONENT, "WARNING", f"[PROMPT FALLBACK] Using minimal generic prompt for business_id={business.id}")
        body = pt.FALLBACK_INBOUND_PROMPT_TEMPLATE.format(business_name=name)
        field, fallback, source = "template:inbound", "generic-template", "fallback"
    text = pt.builder_c_layout(pt.universal_rules("inbound"), appointment, business.id, body)
    ctx.log(call, COMPONENT, "INFO",
            f"[PROMPT_VERIFICATION] business_id={business.id}, direction=INBOUND, call_type_in_prompt=True")
    ctx.log(call, COMPONENT, "INFO",
            f"[PROMPT_CONTEXT] business_id={business.id}, prompt_source={source}, has_hardcoded_templates=False")
    return ctx.record_prompt(call, BuiltPrompt(text, ctx.new_provenance(
        business_id=business.id, builder="B/C", requested_direction=call_direction, source_field=field,
        source_direction="inbound", settings_version=version, path=path, fallback=fallback)))


def _build_outbound(ctx: PipelineContext, business, settings, *, call, path, strict: bool) -> BuiltPrompt:
    """Builder D. No JSON parsing; a blank body takes the outbound template (or raises, hardened)."""
    name = business.name or "Business"
    version = ctx.store.settings_version(business.id)
    body = (_setting(settings, "outbound_ai_prompt") or "").strip()
    field, fallback = "outbound_ai_prompt", None
    if not body:
        ctx.log(call, COMPONENT, "ERROR", f"[PROMPT ERROR] No outbound_ai_prompt for business_id={business.id}")
        if strict or ctx.profile.builders.on_blank("outbound") == "raise":
            raise MissingPromptError(f"no outbound prompt for business_id={business.id}")
        ctx.log(call, COMPONENT, "WARNING",
                f"[PROMPT FALLBACK] Using minimal generic outbound prompt for business_id={business.id}")
        body = pt.FALLBACK_OUTBOUND_PROMPT_TEMPLATE.format(business_name=name)
        field, fallback = "template:outbound", "generic-template"
    body = pt.replace_placeholders(body, name)
    text = pt.builder_d_layout(pt.universal_rules("outbound"), business.id, body, name)
    ctx.log(call, COMPONENT, "INFO",
            f"[PROMPT_VERIFICATION] business_id={business.id}, direction=OUTBOUND, call_type_in_prompt=True")
    return ctx.record_prompt(call, BuiltPrompt(text, ctx.new_provenance(
        business_id=business.id, builder="B/D", requested_direction="outbound", source_field=field,
        source_direction="outbound", settings_version=version, path=path, fallback=fallback)))


def get_fallback_prompt(ctx: PipelineContext, business_id: int | None, call_direction: str, *, call, path) -> BuiltPrompt:
    """``_get_fallback_prompt``: the first non-blank of ai_prompt, outbound_ai_prompt, system_prompt, raw (R1)."""
    version = ctx.store.settings_version(business_id)

    def made(text: str, field: str | None, fallback: str) -> BuiltPrompt:
        return ctx.record_prompt(call, BuiltPrompt(text, ctx.new_provenance(
            business_id=business_id, builder="fallback", requested_direction=call_direction, source_field=field,
            source_direction=FIELD_DIRECTION.get(field or ""), settings_version=version, path=path,
            fallback=fallback)))

    try:
        if not ctx.config.ws_rebuild_app_context and path in ("rebuild", "refresh"):
            raise RuntimeError("Working outside of application context.")
        business = ctx.store.get(business_id)
        settings = ctx.store.settings_for(business_id)
        tiers = [("ai_prompt", _setting(settings, "ai_prompt"), "[FALLBACK] Using ai_prompt from BusinessSettings"),
                 ("outbound_ai_prompt", _setting(settings, "outbound_ai_prompt"),
                  "[FALLBACK] Using outbound_ai_prompt from BusinessSettings"),
                 ("system_prompt", business.system_prompt if business else None,
                  "[FALLBACK] Using system_prompt from Business")]
        for field, value, message in tiers:
            if value and value.strip():
                ctx.log(call, COMPONENT, "WARNING", f"{message} for business_id={business_id}")
                return made(value, field, "direction-agnostic")
        ctx.log(call, COMPONENT, "ERROR", f"[FALLBACK] No prompts found in DB for business_id={business_id}")
        name = business.name if business and business.name else pt.DEFAULT_HEBREW_NAME
        return made(pt.default_hebrew_prompt(name), "template:default-hebrew", "default-hebrew")
    except Exception as exc:  # the real code's broad except: app context missing, DB down
        ctx.log(call, COMPONENT, "ERROR", f"[FALLBACK] Error getting fallback prompt: {exc}")
        ctx.log(call, COMPONENT, "CRITICAL", f"[FALLBACK] Using absolute minimal fallback - {exc}")
        return made(pt.default_hebrew_prompt(), "template:default-hebrew", "absolute-minimal")
