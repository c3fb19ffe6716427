"""``status_callbacks:`` of an ``http`` step: Twilio's automatic callbacks of the call it creates, gone wrong.

The schema checks the shapes; this checks what it cannot: the call they belong to is named, a delay is in
range, and no event is both dropped and held back (the two would contradict each other).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..durations import format_us
from .model import CALLBACK_EVENTS, MAX_CALLBACK_DELAY_US, CallbackScript

if TYPE_CHECKING:  # pragma: no cover
    from .load import _Ctx


def callback_script(ctx: _Ctx, body: dict[str, Any], parts: tuple) -> CallbackScript:
    """The parsed ``status_callbacks`` of the ``http`` body at ``parts`` (the schema has checked its shape)."""
    cparts = parts + ("status_callbacks",)
    spec = body["status_callbacks"]
    if not body.get("creates_call"):
        raise ctx.fail(cparts, "status_callbacks needs creates_call",
                       "creates_call: CA... (the CallSid of the call whose callbacks it shapes)")
    raw_delay = spec.get("delay", {})
    delays = raw_delay if isinstance(raw_delay, dict) else dict.fromkeys(CALLBACK_EVENTS, raw_delay)
    delay_us = {}
    for event, value in delays.items():
        where = cparts + ("delay",) + ((event,) if isinstance(raw_delay, dict) else ())
        delay_us[event] = ctx.duration(value, where)
        if not 0 <= delay_us[event] <= MAX_CALLBACK_DELAY_US:
            raise ctx.fail(where, f"delay {format_us(delay_us[event])} is out of range",
                           f"0 to {format_us(MAX_CALLBACK_DELAY_US)}")
    drop, held = tuple(spec.get("drop") or ()), tuple(spec.get("out_of_order") or ())
    both = [event for event in held if event in drop]
    if both:
        raise ctx.fail(cparts + ("out_of_order",), f"{both[0]!r} is both dropped and held back",
                       "an event in drop or in out_of_order, not both")
    return CallbackScript(delay_us={k: v for k, v in delay_us.items() if v}, drop=drop, out_of_order=held)
