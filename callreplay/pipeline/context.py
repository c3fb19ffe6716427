"""What every model component shares during one replay: clock, scheduler, trace, store, config.

A replay builds exactly one :class:`PipelineContext`; nothing in the model is module-global, so
two replays in one process share nothing (unlike the real system's singletons, which the model
reproduces as per-replay objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..clock import VirtualClock
from ..scheduler import Scheduler
from ..trace import Trace
from .config import PipelineConfig
from .constants import DEFAULT_TIMEZONE
from .store import BusinessStore

if TYPE_CHECKING:  # pragma: no cover
    from .cache import PromptCache
    from .outbound_http import OutboundHttp
    from .profiles import Profile
    from .registry import StreamRegistry


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a prompt text came from: the model's own instrumentation, never sent on the wire."""

    prompt_id: int
    business_id: int | None
    builder: str                 # A | B/C | B/D | fallback | ws-greeting | ws-minimal | cache
    requested_direction: str
    source_field: str | None     # ai_prompt | outbound_ai_prompt | system_prompt | greeting_message | template:* ...
    source_direction: str | None  # inbound | outbound | None (direction-agnostic source)
    settings_version: int
    built_at_us: int
    path: str                    # prebuild | part-d | rebuild | cache | ws-fallback | refresh
    fallback: str | None = None  # why a fallback tier was taken, if one was

    def as_dict(self) -> dict[str, Any]:
        return {s: getattr(self, s) for s in self.__slots__}


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    text: str
    provenance: Provenance


class MissingPromptError(Exception):
    """The FIX's builder A (and the hardened builders C/D) refuse to invent a prompt."""


class CallControl(Protocol):
    """What the webhooks and the stream registry need of the application's handler registry."""

    def live_calls(self, business_id: int) -> int: ...

    def close_handler_from_webhook(self, sid: str, reason: str) -> None: ...

    def prebuild_started(self, sid: str) -> None: ...

    def prebuild_finished(self, sid: str) -> None: ...

    def reap_registry(self, sid: str) -> None: ...


@dataclass
class PipelineContext:
    """The replay's shared services; ``cache``, ``registry``, ``calls`` and ``http`` are set once at start-up."""

    clock: VirtualClock
    scheduler: Scheduler
    trace: Trace
    store: BusinessStore
    config: PipelineConfig
    profile: Profile
    timezone: str = DEFAULT_TIMEZONE
    _next_prompt_id: int = 0
    cache: PromptCache = field(init=False)
    registry: StreamRegistry = field(init=False)
    calls: CallControl = field(init=False)
    http: OutboundHttp = field(init=False)

    @property
    def now(self) -> int:
        return self.clock.now_us

    def emit(self, call: str | None, component: str, kind: str, **data: Any) -> None:
        self.trace.emit(self.clock.now_us, call, component, kind, **data)

    def log(self, call: str | None, component: str, level: str, message: str) -> None:
        """A logger line (``L:level`` in the spec's §9 table)."""
        self.trace.emit(self.clock.now_us, call, component, "log", level=level, message=message)

    def print(self, call: str | None, component: str, message: str) -> None:
        """A DEBUG-gated ``print`` (``P``): emitted only when DEBUG == "1" (the default)."""
        if self.config.debug_prints:
            self.trace.emit(self.clock.now_us, call, component, "log", level="PRINT", message=message)

    def always(self, call: str | None, component: str, message: str) -> None:
        """An ``_orig_print`` line (``O``): always emitted."""
        self.trace.emit(self.clock.now_us, call, component, "log", level="OUT", message=message)

    def new_provenance(self, **fields: Any) -> Provenance:
        self._next_prompt_id += 1
        fields.setdefault("built_at_us", self.clock.now_us)
        return Provenance(prompt_id=self._next_prompt_id, **fields)

    def record_prompt(self, call: str | None, prompt: BuiltPrompt) -> BuiltPrompt:
        self.emit(call, "prompts", "prompt.built", text=prompt.text, length=len(prompt.text),
                  **prompt.provenance.as_dict())
        return prompt
