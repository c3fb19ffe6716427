"""``stream_state.py: StreamRegistry`` (spec §6): per-call state with no TTL, cleared in ``run()``'s finally.

Writes and reads are trace events naming both the call whose entry was touched and the call on
whose behalf it was touched, so ``registry-leak`` can see an entry outliving its call or one call
reading another's state. ``get`` returns a shallow copy, as the real one does (hazard H11).
"""

from __future__ import annotations

from typing import Any

from .context import BuiltPrompt, PipelineContext

COMPONENT = "stream_registry"


def _describe(value: Any) -> dict[str, Any]:
    if isinstance(value, BuiltPrompt):
        return {"prompt_id": value.provenance.prompt_id, "length": len(value.text)}
    return {"value": value}


class StreamRegistry:
    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx
        self._entries: dict[str, dict[str, Any]] = {}

    def _entry(self, sid: str, actor: str | None) -> dict[str, Any]:
        entry = self._entries.get(sid)
        if entry is None:
            entry = self._entries[sid] = {}
            self.ctx.emit(actor, COMPONENT, "registry.create", sid=sid)
            ttl = self.ctx.profile.lifecycle.reaper_after_us()
            if ttl:  # hardened: an entry whose call never connects is retired after a bounded time
                self.ctx.scheduler.call_later(ttl, f"RegistryReaper-{sid[:8]}",
                                              lambda: self.ctx.calls.reap_registry(sid))
        return entry

    def set_metadata(self, sid: str, key: str, value: Any, *, actor: str | None) -> None:
        self._entry(sid, actor)[key] = value
        self.ctx.emit(actor, COMPONENT, "registry.set", sid=sid, key=key, **_describe(value))

    def set_many(self, sid: str, values: dict[str, Any], *, actor: str | None) -> None:
        """One locked write of several keys (the hardened profile's atomic pre-build store)."""
        entry = self._entry(sid, actor)
        entry.update(values)
        for key, value in values.items():
            self.ctx.emit(actor, COMPONENT, "registry.set", sid=sid, key=key, atomic=True, **_describe(value))

    def get_metadata(self, sid: str, key: str, default: Any = None, *, actor: str | None) -> Any:
        entry = self._entries.get(sid)
        value = entry.get(key, default) if entry is not None else default
        self.ctx.emit(actor, COMPONENT, "registry.get", sid=sid, key=key, found=value is not None and value != default,
                      **(_describe(value) if value is not None else {}))
        return value

    def peek(self, sid: str, key: str) -> Any:
        """Read without a trace event (the model's own bookkeeping, not the real system's)."""
        return self._entries.get(sid, {}).get(key)

    def get(self, sid: str, *, actor: str | None) -> dict[str, Any]:
        self.ctx.emit(actor, COMPONENT, "registry.get_copy", sid=sid)
        return dict(self._entries.get(sid, {}))

    def mark_start(self, sid: str, *, actor: str | None) -> None:
        entry = self._entry(sid, actor)
        entry["started"] = True
        entry["last_media_at"] = self.ctx.clock.epoch()

    def touch_media(self, sid: str, t_us: int) -> None:
        """§13.1 item 5: on a call with no entry this creates one (``{'last_media_at': ...}``)."""
        self._entry(sid, sid)["last_media_at"] = self.ctx.clock.epoch(t_us)

    def set_metric(self, sid: str, name: str, value: float, *, actor: str | None) -> None:
        metrics = self._entry(sid, actor).setdefault("metrics", {})
        metrics[name] = int(value)
        self.ctx.emit(actor, COMPONENT, "registry.set", sid=sid, key=f"metrics.{name}", value=int(value))

    def clear(self, sid: str, *, actor: str | None, reason: str) -> None:
        entry = self._entries.pop(sid, None)
        self.ctx.emit(actor, COMPONENT, "registry.clear", sid=sid, existed=entry is not None,
                      keys=sorted(entry) if entry else [], reason=reason)

    def has(self, sid: str) -> bool:
        return sid in self._entries

    def final_state(self) -> dict[str, list[str]]:
        return {sid: sorted(entry) for sid, entry in sorted(self._entries.items())}
