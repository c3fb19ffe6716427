"""The realtime thread's prompt load (spec §7.3-7.5 BUGGY, §10 item 5 FIX, and the hardened rules).

It reads ``_prebuilt_full_prompt`` exactly once, checks it for a direction mismatch the way the
profile says (the HARD LOCK substring heuristic, the fix's metadata comparison, or the hardened
comparison of direction, business and hash) and decides what the session is bound to. Every
decision is a trace event, so ``mismatch-ignored`` and ``prebuild-race`` read facts, not logs.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from . import prompt_text as pt
from .context import BuiltPrompt, MissingPromptError
from .prompts import build_realtime_system_prompt

if TYPE_CHECKING:  # pragma: no cover
    from .media_handler import MediaStreamHandler

COMPONENT = "media_ws"


def load_prompt(h: MediaStreamHandler) -> BuiltPrompt | None:
    """Return the prompt the session is bound to, or None when the call was failed instead."""
    ctx, sid = h.ctx, h.call_sid
    registry = ctx.services["registry"]
    direction = h.call_direction or "inbound"
    prompt = registry.get_metadata(sid, "_prebuilt_full_prompt", actor=sid)
    pending = h.app.prebuild_pending(sid)
    ctx.emit(sid, COMPONENT, "prompt.registry_read", found=bool(prompt and prompt.text),
             prompt_id=prompt.provenance.prompt_id if prompt else None, prebuild_pending=pending)
    if ctx.profile.mismatch_check == "substring":
        return _legacy_load(h, prompt, direction)
    return _fixed_load(h, prompt, direction)


def _emit_check(h, method: str, expected: str, detected: str | None, mismatch: bool, action: str, **extra) -> None:
    h.ctx.emit(h.call_sid, COMPONENT, "prompt.mismatch_check", method=method, expected=expected, detected=detected,
               mismatch=mismatch, action=action, **extra)


def _legacy_load(h: MediaStreamHandler, prompt: BuiltPrompt | None, direction: str) -> BuiltPrompt:
    ctx, sid = h.ctx, h.call_sid
    if prompt is not None and prompt.text:
        ctx.print(sid, COMPONENT, "🚀 [PROMPT] Using PRE-BUILT FULL prompt from registry (LATENCY-FIRST)")
        detected = "outbound" if ("outbound" in prompt.text.lower() or h.call_direction == "outbound") else "inbound"
        mismatch = detected != direction
        rebuild = mismatch and ctx.profile.mismatch_action == "rebuild"
        _emit_check(h, "substring", direction, detected, mismatch,
                    "rebuild" if rebuild else ("continue" if mismatch else "bind"), prompt_id=prompt.provenance.prompt_id)
        if mismatch:
            ctx.print(sid, COMPONENT, f"⚠️ [PROMPT_MISMATCH] WARNING: pre-built prompt looks {detected} but call is "
                      f"{direction}")
            if rebuild:
                ctx.always(sid, COMPONENT, f"[PROMPT_MISMATCH] call_sid={sid[:8]}... expected={direction} "
                           f"prebuilt={detected} action=REBUILD")
                return build_realtime_system_prompt(ctx, h.business_id, direction, use_cache=False, call=sid,
                                                    path="rebuild")
            ctx.print(sid, COMPONENT, "❌ NOT rebuilding - continuing with pre-built prompt (HARD LOCK)")
            ctx.always(sid, COMPONENT, f"[PROMPT_MISMATCH] call_sid={sid[:8]}... expected={direction} "
                       f"prebuilt={detected} action=CONTINUE_NO_REBUILD")
        else:
            ctx.print(sid, COMPONENT, f"✅ [PROMPT_VERIFY] Pre-built prompt matches call direction: {direction}")
            ctx.always(sid, COMPONENT, f"[PROMPT_BIND] call_sid={sid[:8]}... direction={direction} status=MATCHED")
        return prompt
    ctx.print(sid, COMPONENT, "⚠️ [PROMPT] Pre-built FULL prompt not found in registry - using fallback (NO DB QUERY)")
    ctx.print(sid, COMPONENT, f"🔍 [PROMPT_DEBUG] Missing prebuilt for call_direction={direction}")
    greeting = h.greeting_text
    if greeting and greeting.strip():
        text, field = greeting.strip(), "greeting_message"
    else:
        text, field = pt.WS_MINIMAL_SENTENCE.format(biz=h.business_name or "העסק"), "template:ws-minimal"
    ctx.log(sid, COMPONENT, "WARNING", f"[PROMPT] Missing prebuilt prompt for call_sid={sid[:8]} - using fallback")
    built = ctx.record_prompt(sid, BuiltPrompt(text, ctx.new_provenance(
        business_id=h.business_id, builder="ws-fallback", requested_direction=direction, source_field=field,
        source_direction=None, settings_version=ctx.store.settings_version(h.business_id), path="ws-fallback",
        fallback="missing-prebuilt")))
    ctx.emit(sid, COMPONENT, "prompt.missing", action="ws-greeting-fallback", prompt_id=built.provenance.prompt_id)
    return built


def _fixed_load(h: MediaStreamHandler, prompt: BuiltPrompt | None, direction: str) -> BuiltPrompt | None:
    ctx, sid, profile = h.ctx, h.call_sid, h.ctx.profile
    registry = ctx.services["registry"]
    stored_direction = registry.get_metadata(sid, "_prebuilt_direction", actor=sid)
    if prompt is None or not prompt.text:
        ctx.print(sid, COMPONENT, "⚠️ [PROMPT] Pre-built FULL prompt not found in registry - building fresh from DB")
        strict = profile.missing_prompt == "fail"
        ctx.emit(sid, COMPONENT, "prompt.missing", action="fail" if strict else "rebuild-cached")
        return _rebuild(h, direction, use_cache=not strict)
    reasons = []
    if stored_direction and stored_direction != direction:
        reasons.append("direction")
    if profile.mismatch_check == "full":
        stored_business = registry.get_metadata(sid, "_prebuilt_business_id", actor=sid)
        stored_hash = registry.get_metadata(sid, "_prebuilt_prompt_hash", actor=sid)
        if stored_business is not None and stored_business != h.business_id:
            reasons.append("business")
        if stored_hash and hashlib.sha256(prompt.text.encode()).hexdigest()[:16] != stored_hash:
            reasons.append("hash")
        if not stored_direction:
            reasons.append("no-metadata")
    mismatch = bool(reasons)
    _emit_check(h, profile.mismatch_check, direction, stored_direction, mismatch, "rebuild" if mismatch else "bind",
                reasons=reasons, prompt_id=prompt.provenance.prompt_id)
    if mismatch:
        ctx.always(sid, COMPONENT, "❌ [PROMPT_MISMATCH] Direction mismatch detected!")
        ctx.always(sid, COMPONENT, f"[PROMPT_MISMATCH] call_sid={sid[:8]}... expected={direction} "
                   f"prebuilt={stored_direction} action=REBUILD")
        return _rebuild(h, direction, use_cache=False)
    ctx.always(sid, COMPONENT, f"[PROMPT_BIND] call_sid={sid[:8]}... direction={direction} status=MATCHED")
    return prompt


def _rebuild(h: MediaStreamHandler, direction: str, *, use_cache: bool) -> BuiltPrompt | None:
    try:
        return build_realtime_system_prompt(h.ctx, h.business_id, direction, use_cache=use_cache, call=h.call_sid,
                                            path="rebuild")
    except MissingPromptError as exc:
        h.ctx.log(h.call_sid, COMPONENT, "ERROR", f"[PROMPT ERROR] {exc} - ending the call instead of improvising")
        h.ctx.emit(h.call_sid, COMPONENT, "prompt.failed", reason=str(exc))
        return None
