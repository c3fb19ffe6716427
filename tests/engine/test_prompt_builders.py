"""Spec §4: builder A's fallback chain (BUGGY) and its removal (FIX), the JSON form, placeholders, layout."""

import pytest

from callreplay.pipeline.context import MissingPromptError
from callreplay.pipeline.prompts import build_full_business_prompt, build_realtime_system_prompt


def biz(ai=None, out=None, system=None, name="Acme"):
    return {"id": 7, "name": name, "phone": "+97231234567", "system_prompt": system,
            "settings": {"ai_prompt": ai, "outbound_ai_prompt": out}}


def build(ctx, direction, **kw):
    return build_full_business_prompt(ctx, 7, direction, call="CA1", path="prebuild", **kw)


@pytest.mark.parametrize("ai,out,system,direction,field,log", [
    ("", "SELL", None, "inbound", "outbound_ai_prompt",
     "[PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id=7"),
    ("HELP", "", None, "outbound", "ai_prompt",
     "[PROMPT FALLBACK] Using inbound prompt as fallback for outbound business_id=7"),
    ("", "", "LEGACY", "inbound", "system_prompt", "[PROMPT FALLBACK] Using system_prompt as fallback for business_id=7"),
    ("", "SELL", "LEGACY", "unknown", "system_prompt",
     "[PROMPT FALLBACK] Using system_prompt as fallback for business_id=7"),
])
def test_legacy_fallback_order(messages, make_ctx, ai, out, system, direction, field, log):
    ctx = make_ctx("legacy", [biz(ai, out, system)])
    prompt = build(ctx, direction)
    assert prompt.provenance.source_field == field
    logs = messages(ctx)
    assert logs[0] == f"[PROMPT ERROR] Missing business prompt for business_id=7 direction={direction}"
    assert logs[1] == log


def test_single_tier_fallback_returns_empty_for_whitespace_outbound(messages, make_ctx):
    ctx = make_ctx("legacy", [biz("", "   ", "LEGACY")])
    prompt = build(ctx, "inbound")
    assert prompt.text == ""
    assert messages(ctx)[-1] == "[PROMPT ERROR] No prompts available for business_id=7 - configuration required"


def test_incident_layout_says_inbound_around_the_outbound_body(messages, make_ctx):
    ctx = make_ctx("legacy", [biz("", "Call {{business_name}} leads and sell.")])
    text = build(ctx, "inbound").text
    assert "\n\nCaller contacted the business.\n\nBUSINESS PROMPT (Business ID: 7, Name: Acme, Call: INBOUND):\n" \
           "Call Acme leads and sell.\n\nCALL TYPE: INBOUND. The customer called the business. Follow the " \
           "business prompt for flow." in text
    assert "outbound" not in text.lower()


@pytest.mark.parametrize("raw,expected", [
    ('{"calls": "CALLS", "whatsapp": "WA"}', "CALLS"),
    ('{"calls": "", "whatsapp": "WA"}', "WA"),
    ('  {"calls": "CALLS"}  ', "CALLS"),
    ("{not json", "{not json"),
    ("Hello {{BUSINESS_NAME}}", "Hello Acme"),
])
def test_legacy_json_form_and_placeholders(messages, make_ctx, raw, expected):
    ctx = make_ctx("legacy", [biz(raw, "x")])
    assert f"Call: INBOUND):\n{expected}\n\n" in build(ctx, "inbound").text


def test_fix_does_not_strip_so_leading_whitespace_defeats_json(messages, make_ctx):
    ctx = make_ctx("fixed", [biz('\n{"calls": "CALLS", "whatsapp": "WA"}', "x")])
    assert '"whatsapp": "WA"' in build(ctx, "inbound").text


def test_json_list_is_not_parsed_because_only_a_leading_brace_is(messages, make_ctx):
    ctx = make_ctx("legacy", [biz('["a"]', "x")])
    assert 'Call: INBOUND):\n["a"]\n' in build(ctx, "inbound").text


def test_fix_raises_missing_prompt_instead_of_falling_back(messages, make_ctx):
    ctx = make_ctx("fixed", [biz("", "SELL")])
    with pytest.raises(MissingPromptError):
        build(ctx, "inbound")
    assert messages(ctx) == ["[PROMPT ERROR] Missing INBOUND prompt for business_id=7. Please configure 'ai_prompt' "
                             "in BusinessSettings."]


def test_missing_business_returns_empty(messages, make_ctx):
    ctx = make_ctx("fixed", [])
    assert build(ctx, "inbound").text == ""
    assert messages(ctx) == ["⚠️ [FULL_BUSINESS] Business 7 not found"]


def test_builder_c_falls_back_to_the_inbound_template_and_caches_it(messages, make_ctx):
    ctx = make_ctx("fixed", [biz("", "SELL")])
    prompt = build_realtime_system_prompt(ctx, 7, "inbound", use_cache=True, call="CA1", path="rebuild")
    assert "You are a professional service representative for Acme." in prompt.text
    assert "SELL" not in prompt.text
    assert "[PROMPT FALLBACK] Using minimal generic prompt for business_id=7" in messages(ctx)
    assert "💾 [PROMPT_CACHE] SET for 7:inbound" in " ".join(messages(ctx))


def test_missing_app_context_takes_the_absolute_minimal_fallback(messages, make_ctx):
    ctx = make_ctx("fixed", [biz("", "SELL")], ws_rebuild_app_context=False)
    prompt = build_realtime_system_prompt(ctx, 7, "inbound", use_cache=True, call="CA1", path="rebuild")
    assert prompt.text == "You are a voice assistant for העסק שלנו.\nDefault language: Hebrew.\nRespond naturally and briefly."
    assert "[FALLBACK] Using absolute minimal fallback - Working outside of application context." in messages(ctx)


def test_direction_agnostic_fallback_hands_outbound_the_inbound_prompt(messages, make_ctx):
    """R1: B's error path takes ai_prompt first, whatever the direction."""
    from callreplay.pipeline.prompts import get_fallback_prompt

    ctx = make_ctx("fixed", [biz("INBOUND TEXT", "")])
    prompt = get_fallback_prompt(ctx, 7, "outbound", call="CA1", path="rebuild")
    assert prompt.text == "INBOUND TEXT" and prompt.provenance.source_direction == "inbound"
