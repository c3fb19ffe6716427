"""``services/prompt_cache.py`` (spec §5): a TTL cache keyed ``"{business_id}:{direction}"``.

The expiry rule is strict: an entry aged exactly the TTL is still served; one microsecond more and
it is removed on the next ``get``. Every get/set/invalidate is a trace event with the entry's age,
which is what ``cache-served-expired`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..durations import US_PER_S
from .context import BuiltPrompt, PipelineContext, Provenance

COMPONENT = "prompt_cache"


@dataclass
class CachedPrompt:
    business_id: int | None
    direction: str
    system_prompt: str
    greeting_text: str
    cached_at_us: int
    provenance: Provenance


class PromptCache:
    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx
        self.ttl_us = ctx.config.prompt_cache_ttl_us
        self._entries: dict[str, CachedPrompt] = {}

    def key(self, business_id, direction: str) -> str:
        return self.ctx.profile.cache.key(business_id, direction)

    def is_expired(self, age_us: int) -> bool:
        return self.ctx.profile.cache.expired(age_us, self.ttl_us)

    def get(self, business_id, direction: str, *, call: str | None) -> CachedPrompt | None:
        ctx = self.ctx
        key = self.key(business_id, direction)
        entry = self._entries.get(key)
        if entry is None:
            ctx.log(call, COMPONENT, "INFO", f"❌ [PROMPT_CACHE] MISS for {key}")
            ctx.emit(call, COMPONENT, "cache.get", key=key, result="miss", direction=direction, business_id=business_id)
            return None
        age = ctx.now - entry.cached_at_us
        if self.is_expired(age):
            del self._entries[key]
            ctx.log(call, COMPONENT, "INFO", f"🗑️ [PROMPT_CACHE] Expired entry removed for {key}")
            ctx.emit(call, COMPONENT, "cache.get", key=key, result="expired", age_us=age, ttl_us=self.ttl_us,
                     direction=direction, business_id=business_id, prompt_id=entry.provenance.prompt_id)
            return None
        ctx.log(call, COMPONENT, "INFO", f"✅ [PROMPT_CACHE] HIT for {key} (age: {age // US_PER_S}s)")
        ctx.emit(call, COMPONENT, "cache.get", key=key, result="hit", age_us=age, ttl_us=self.ttl_us,
                 direction=direction, business_id=business_id, prompt_id=entry.provenance.prompt_id,
                 entry_direction=entry.direction, entry_business_id=entry.business_id)
        return entry

    def set(self, business_id, direction: str, prompt: BuiltPrompt, *, greeting: str, call: str | None) -> None:
        key = self.key(business_id, direction)
        self._entries[key] = CachedPrompt(business_id, direction, prompt.text, greeting, self.ctx.now, prompt.provenance)
        self.ctx.log(call, COMPONENT, "INFO",
                     f"💾 [PROMPT_CACHE] SET for {key} (prompt: {len(prompt.text)} chars, greeting: {len(greeting)} chars)")
        self.ctx.emit(call, COMPONENT, "cache.set", key=key, direction=direction, business_id=business_id,
                      prompt_id=prompt.provenance.prompt_id, ttl_us=self.ttl_us)

    def invalidate(self, business_id, direction: str | None = None, *, call: str | None = None) -> None:
        directions = [direction] if direction else ["inbound", "outbound"]
        for d in directions:
            key = self.key(business_id, d)
            existed = self._entries.pop(key, None) is not None
            if existed:  # §13.1 item 4: only keys that held an entry are logged
                self.ctx.log(call, COMPONENT, "INFO", f"🗑️ [PROMPT_CACHE] Invalidated cache for {key}")
            self.ctx.emit(call, COMPONENT, "cache.invalidate", key=key, business_id=business_id, direction=d,
                          existed=existed)

    def clear(self) -> None:
        count = len(self._entries)
        self._entries.clear()
        self.ctx.log(None, COMPONENT, "INFO", f"🗑️ [PROMPT_CACHE] Cleared {count} entries")  # §13.1 item 4
        self.ctx.emit(None, COMPONENT, "cache.clear", entries=count)

    def stats(self) -> dict:
        return {"entries": len(self._entries), "keys": sorted(self._entries)}
