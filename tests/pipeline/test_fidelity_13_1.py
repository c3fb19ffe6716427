"""Spec §13.1: the prompt builders, cache, registry and WebSocket checks as measured against the real code."""

from __future__ import annotations

import pytest

from callreplay.pipeline.context import BuiltPrompt, MissingPromptError
from callreplay.pipeline.prompt_load import CallFacts, load_prompt
from callreplay.pipeline.prompt_text import (
    extract_business_prompt_text_fix,
    extract_business_prompt_text_legacy,
    extract_for_builder_c,
)
from callreplay.pipeline.prompts import build_full_business_prompt, build_realtime_system_prompt
from callreplay.replay import replay
from callreplay.testing import business, inbound_call, scenario_from_dict


def _biz(ai=None, out=None):
    return {"id": 7, "name": "Acme", "phone": "+97231234567", "settings": {"ai_prompt": ai, "outbound_ai_prompt": out}}


def _build(ctx, direction):
    return build_full_business_prompt(ctx, 7, direction, call="CA1", path="prebuild")


def test_13_1_1_the_missing_prompt_error_has_no_log_prefix(make_ctx, messages):
    ctx = make_ctx("fixed", [_biz("", "SELL")])
    with pytest.raises(MissingPromptError) as err:
        _build(ctx, "inbound")
    assert str(err.value) == "Missing INBOUND prompt for business_id=7. Please configure 'ai_prompt' in BusinessSettings."
    assert messages(ctx) == [f"[PROMPT ERROR] {err.value}"]


def test_13_1_1_the_webhook_prebuild_line_carries_no_prefix(tmp_path):
    scenario = scenario_from_dict({"name": "no-prefix", "businesses": [business(1, ai_prompt="")],
                                   "steps": inbound_call()}, tmp_path)
    lines = [e.data["message"] for e in replay(scenario, "fixed").trace.events
             if e.kind == "log" and e.component == "prebuild"]
    assert "[PROMPT] Failed to pre-build inbound prompt: Missing INBOUND prompt for business_id=1. Please configure " \
           "'ai_prompt' in BusinessSettings." in lines


@pytest.mark.parametrize("direction", ["unknown", "Outbound", "", "inbound-api"])
def test_13_1_2_any_direction_but_inbound_takes_the_outbound_wording_and_field(direction, make_ctx, messages):
    ctx = make_ctx("fixed", [_biz("HELLO", "")])
    with pytest.raises(MissingPromptError) as err:
        _build(ctx, direction)
    assert str(err.value) == ("Missing OUTBOUND prompt for business_id=7. Please configure 'outbound_ai_prompt' in "
                              "BusinessSettings.")


@pytest.mark.parametrize("extract", [extract_business_prompt_text_legacy, extract_business_prompt_text_fix,
                                     extract_for_builder_c])
@pytest.mark.parametrize("raw, kind", [('{"calls": 5}', "int"), ('{"calls": ["a"]}', "list"),
                                       ('{"whatsapp": {"x": 1}}', "dict")])
def test_13_1_3_a_non_string_calls_value_raises_at_both_commits(extract, raw, kind):
    with pytest.raises(AttributeError, match=rf"^'{kind}' object has no attribute 'replace'$"):
        extract("Acme", raw)


@pytest.mark.parametrize("profile", ["legacy", "fixed"])
def test_13_1_3_builder_a_never_renders_it_and_builder_b_falls_back(profile, make_ctx, messages):
    ctx = make_ctx(profile, [_biz('{"calls": 5}', "SELL")])
    with pytest.raises(AttributeError):
        _build(ctx, "inbound")
    prompt = build_realtime_system_prompt(ctx, 7, "inbound", use_cache=False, call="CA1", path="rebuild")
    assert prompt.provenance.builder == "fallback" and "5" != prompt.text


def test_13_1_4_invalidate_logs_only_keys_that_existed_and_clear_counts(make_ctx, messages):
    ctx = make_ctx()
    cache = ctx.cache
    provenance = ctx.new_provenance(business_id=1, builder="A", requested_direction="inbound", source_field=None,
                                    source_direction=None, settings_version=1, path="prebuild")
    cache.set(1, "inbound", BuiltPrompt("x", provenance), greeting="", call=None)
    cache.invalidate(1)
    assert [m for m in messages(ctx) if "Invalidated" in m] == ["🗑️ [PROMPT_CACHE] Invalidated cache for 1:inbound"]
    assert [e.data["existed"] for e in ctx.trace.events if e.kind == "cache.invalidate"] == [True, False]
    cache.set(1, "inbound", BuiltPrompt("x", provenance), greeting="", call=None)
    cache.set(1, "outbound", BuiltPrompt("y", provenance), greeting="", call=None)
    cache.clear()
    assert messages(ctx)[-1] == "🗑️ [PROMPT_CACHE] Cleared 2 entries"
    assert [e.data for e in ctx.trace.events if e.kind == "cache.clear"] == [{"entries": 2}]


def test_13_1_5_touch_media_on_an_absent_call_creates_the_entry(make_ctx):
    ctx = make_ctx()
    ctx.registry.touch_media("CA9", 1_000_000)
    assert ctx.registry.get("CA9", actor="CA9") == {"last_media_at": ctx.clock.epoch(1_000_000)}
    assert [e.kind for e in ctx.trace.events][:1] == ["registry.create"]


def _parked_mismatch(make_ctx, direction):
    ctx = make_ctx("fixed", [_biz("HELLO", "SELL")])
    prompt = _build(ctx, "inbound")
    ctx.registry.set_metadata("CA1", "_prebuilt_full_prompt", prompt, actor="CA1")
    ctx.registry.set_metadata("CA1", "_prebuilt_direction", "inbound", actor="CA1")
    facts = CallFacts("CA1", direction, 7, "Acme", None, prebuild_pending=False)
    return ctx, load_prompt(ctx, facts)


def test_13_1_6_the_fix_mismatch_banner_is_debug_gated(make_ctx):
    ctx, _ = _parked_mismatch(make_ctx, "outbound")
    banner = [e.data["level"] for e in ctx.trace.events if e.kind == "log" and "Direction mismatch detected" in
              e.data["message"]]
    assert banner == ["PRINT"]
    quiet, _ = _parked_mismatch(lambda *a: make_ctx(*a, debug_prints=False), "outbound")
    assert not [e for e in quiet.trace.events if e.kind == "log" and "Direction mismatch detected" in e.data["message"]]


def test_13_1_7_an_empty_direction_stays_empty_through_check_and_rebuild(make_ctx):
    ctx, bound = _parked_mismatch(make_ctx, "")
    (check,) = [e.data for e in ctx.trace.events if e.kind == "prompt.mismatch_check"]
    assert (check["expected"], check["mismatch"], check["action"]) == ("", True, "rebuild")
    assert bound is not None and bound.provenance.requested_direction == ""
