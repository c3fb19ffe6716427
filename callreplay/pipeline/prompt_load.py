"""The realtime thread's prompt load (spec §7.3-7.5 BUGGY, §10 item 5 FIX, and the hardened rules).

It reads ``_prebuilt_full_prompt`` exactly once, asks the profile's :class:`~.policies.PromptCheck`
for a verdict, writes that verdict to the trace (``prompt.mismatch_check`` or ``prompt.missing``) and
then carries out exactly that verdict: bind, continue, rebuild, bind the greeting or fail the call.
``mismatch-ignored`` and ``prebuild-race`` read those events, so they read what the model did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import prompt_text as pt
from .context import BuiltPrompt, MissingPromptError, PipelineContext
from .policies import Checked, Missing, ParkedPrompt
from .prompts import build_realtime_system_prompt

COMPONENT = "media_ws"


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the load needs of the handler: the call, its direction and its business."""

    call_sid: str
    call_direction: str | None
    business_id: int | None
    business_name: str | None
    greeting_text: str | None
    prebuild_pending: bool


def load_prompt(ctx: PipelineContext, call: CallFacts) -> BuiltPrompt | None:
    """Return the prompt the session is bound to, or None when the call was failed instead."""
    sid = call.call_sid
    # §13.1 item 7: getattr's default applies only when the attribute is missing; "" stays ""
    direction = call.call_direction if call.call_direction is not None else "inbound"
    prompt = ctx.registry.get_metadata(sid, "_prebuilt_full_prompt", actor=sid)
    ctx.emit(sid, COMPONENT, "prompt.registry_read", found=bool(prompt and prompt.text),
             prompt_id=prompt.provenance.prompt_id if prompt else None, prebuild_pending=call.prebuild_pending)

    def read(key: str) -> Any:
        return ctx.registry.get_metadata(sid, key, actor=sid)

    facts = ParkedPrompt(sid, direction, call.call_direction, call.business_id, prompt, read)
    verdict = ctx.profile.prompt_check.decide(facts)
    if isinstance(verdict, Missing):
        return _on_missing(ctx, call, direction, verdict)
    assert prompt is not None
    return _on_checked(ctx, call, prompt, verdict)


def _on_checked(ctx: PipelineContext, call: CallFacts, prompt: BuiltPrompt, v: Checked) -> BuiltPrompt | None:
    sid, hard_lock = call.call_sid, v.wording == "hard-lock"
    if hard_lock:
        ctx.print(sid, COMPONENT, "🚀 [PROMPT] Using PRE-BUILT FULL prompt from registry (LATENCY-FIRST)")
    extra: dict[str, Any] = {} if v.reasons is None else {"reasons": list(v.reasons)}
    ctx.emit(sid, COMPONENT, "prompt.mismatch_check", method=v.method, expected=v.expected, detected=v.detected,
             mismatch=v.mismatch, action=v.action, **extra, prompt_id=prompt.provenance.prompt_id)
    if v.action == "bind":
        if hard_lock:
            ctx.print(sid, COMPONENT, f"✅ [PROMPT_VERIFY] Pre-built prompt matches call direction: {v.expected}")
        ctx.always(sid, COMPONENT, f"[PROMPT_BIND] call_sid={sid[:8]}... direction={v.expected} status=MATCHED")
        return prompt
    if hard_lock:
        ctx.print(sid, COMPONENT, f"⚠️ [PROMPT_MISMATCH] WARNING: pre-built prompt looks {v.detected} but call is "
                  f"{v.expected}")
    else:  # §13.1 item 6: a DEBUG-gated print at 872f4546
        ctx.print(sid, COMPONENT, "❌ [PROMPT_MISMATCH] Direction mismatch detected!")
    if v.action == "rebuild":
        ctx.always(sid, COMPONENT, f"[PROMPT_MISMATCH] call_sid={sid[:8]}... expected={v.expected} "
                   f"prebuilt={v.detected} action=REBUILD")
        return _rebuild(ctx, call, v.expected, use_cache=False, strict=False)
    if hard_lock:
        ctx.print(sid, COMPONENT, "❌ NOT rebuilding - continuing with pre-built prompt (HARD LOCK)")
    ctx.always(sid, COMPONENT, f"[PROMPT_MISMATCH] call_sid={sid[:8]}... expected={v.expected} "
               f"prebuilt={v.detected} action=CONTINUE_NO_REBUILD")
    return prompt


def _on_missing(ctx: PipelineContext, call: CallFacts, direction: str, v: Missing) -> BuiltPrompt | None:
    sid = call.call_sid
    if v.action == "ws-greeting-fallback":
        ctx.print(sid, COMPONENT, "⚠️ [PROMPT] Pre-built FULL prompt not found in registry - using fallback "
                  "(NO DB QUERY)")
        ctx.print(sid, COMPONENT, f"🔍 [PROMPT_DEBUG] Missing prebuilt for call_direction={direction}")
        greeting = call.greeting_text
        if greeting and greeting.strip():
            text, field = greeting.strip(), "greeting_message"
        else:
            text, field = pt.WS_MINIMAL_SENTENCE.format(biz=call.business_name or "העסק"), "template:ws-minimal"
        ctx.log(sid, COMPONENT, "WARNING", f"[PROMPT] Missing prebuilt prompt for call_sid={sid[:8]} - using fallback")
        built = ctx.record_prompt(sid, BuiltPrompt(text, ctx.new_provenance(
            business_id=call.business_id, builder="ws-fallback", requested_direction=direction, source_field=field,
            source_direction=None, settings_version=ctx.store.settings_version(call.business_id),
            path="ws-fallback", fallback="missing-prebuilt")))
        ctx.emit(sid, COMPONENT, "prompt.missing", action=v.action, prompt_id=built.provenance.prompt_id)
        return built
    ctx.print(sid, COMPONENT, "⚠️ [PROMPT] Pre-built FULL prompt not found in registry - building fresh from DB")
    ctx.emit(sid, COMPONENT, "prompt.missing", action=v.action)
    return _rebuild(ctx, call, direction, use_cache=v.action == "rebuild-cached", strict=v.action == "fail")


def _rebuild(ctx: PipelineContext, call: CallFacts, direction: str, *, use_cache: bool,
             strict: bool) -> BuiltPrompt | None:
    try:
        return build_realtime_system_prompt(ctx, call.business_id, direction, use_cache=use_cache, call=call.call_sid,
                                            path="rebuild", strict=strict)
    except MissingPromptError as exc:
        ctx.log(call.call_sid, COMPONENT, "ERROR", f"[PROMPT ERROR] {exc} - ending the call instead of improvising")
        ctx.emit(call.call_sid, COMPONENT, "prompt.failed", reason=str(exc))
        return None
