"""Spec §5: key ``business:direction``, strict ``age > TTL`` expiry, invalidation of one or both keys."""

from callreplay.pipeline.context import BuiltPrompt

TTL = 600_000_000


def _prompt(ctx, text="P"):
    return BuiltPrompt(text, ctx.new_provenance(business_id=1, builder="B/C", requested_direction="inbound",
                                                source_field="ai_prompt", source_direction="inbound",
                                                settings_version=1, path="rebuild"))


def test_entry_aged_exactly_the_ttl_is_still_served(messages, make_ctx):
    ctx = make_ctx()
    cache = ctx.cache
    cache.set(1, "inbound", _prompt(ctx), greeting="hi", call=None)
    ctx.clock.advance_to(TTL)
    assert cache.get(1, "inbound", call=None) is not None
    assert messages(ctx)[-1] == "✅ [PROMPT_CACHE] HIT for 1:inbound (age: 600s)"


def test_entry_one_millisecond_past_the_ttl_is_removed(messages, make_ctx):
    ctx = make_ctx()
    cache = ctx.cache
    cache.set(1, "inbound", _prompt(ctx), greeting="hi", call=None)
    ctx.clock.advance_to(TTL + 1_000)
    assert cache.get(1, "inbound", call=None) is None
    assert messages(ctx)[-1] == "🗑️ [PROMPT_CACHE] Expired entry removed for 1:inbound"
    assert cache.get(1, "inbound", call=None) is None
    assert messages(ctx)[-1] == "❌ [PROMPT_CACHE] MISS for 1:inbound"


def test_keys_are_direction_separated(messages, make_ctx):
    ctx = make_ctx()
    cache = ctx.cache
    cache.set(1, "inbound", _prompt(ctx), greeting="", call=None)
    assert cache.get(1, "outbound", call=None) is None
    assert cache.get(1, "unknown", call=None) is None
    assert messages(ctx)[0] == "💾 [PROMPT_CACHE] SET for 1:inbound (prompt: 1 chars, greeting: 0 chars)"


def test_invalidate_without_direction_drops_both_keys(messages, make_ctx):
    ctx = make_ctx()
    cache = ctx.cache
    cache.set(1, "inbound", _prompt(ctx), greeting="", call=None)
    cache.set(1, "outbound", _prompt(ctx), greeting="", call=None)
    cache.invalidate(1)
    assert cache.stats() == {"entries": 0, "keys": []}
    assert messages(ctx)[-2:] == ["🗑️ [PROMPT_CACHE] Invalidated cache for 1:inbound",
                                  "🗑️ [PROMPT_CACHE] Invalidated cache for 1:outbound"]


def test_set_overwrites_and_resets_the_age(messages, make_ctx):
    ctx = make_ctx()
    cache = ctx.cache
    cache.set(1, "inbound", _prompt(ctx, "old"), greeting="", call=None)
    ctx.clock.advance_to(TTL)
    cache.set(1, "inbound", _prompt(ctx, "new"), greeting="", call=None)
    ctx.clock.advance_to(2 * TTL)
    assert cache.get(1, "inbound", call=None).system_prompt == "new"
