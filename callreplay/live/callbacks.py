"""Twilio's automatic status callbacks of a REST-created call as a scenario scripts them: late, missing or
out of order (``http: ... status_callbacks:``), so a detector such as ``call-not-finalized`` can be proved
against a server that stores what its callbacks say.

Each callback's parameters (``CallStatus``, ``SequenceNumber``, ``Timestamp``) are fixed when its event
happens, as Twilio's are; only its delivery moves. A held (out-of-order) callback is sent right after the
completed callback, or when the call ends if that is dropped or not subscribed. A delayed send still pending
when the replay ends is cancelled with the replay's other work: delivered never.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..scenario.model import CallbackScript

Send = Callable[[str, dict[str, str]], Awaitable[None]]


@dataclass
class ScriptedCallbacks:
    script: CallbackScript
    send: Send                                   # (event, params): the request to the target
    spawn: Callable[[Awaitable[Any]], None]      # work that runs alongside the replay
    note: Callable[..., None]                    # records a callback.scripted event
    held: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    completed_seen: bool = False

    async def deliver(self, event: str, params: dict[str, str]) -> None:
        """The callback of ``event`` as the script says: sent now, later, after completed, or never."""
        script = self.script
        if event == "completed":
            self.completed_seen = True
        if event in script.drop:
            self.note(event=event, effect="dropped")
            if event == "completed":
                await self._flush()
            return
        if event in script.out_of_order:
            self.note(event=event, effect="held")
            self.held.append((event, params))
            return
        delay_us = script.delay_us.get(event, 0)
        if delay_us:
            self.note(event=event, effect="delayed", delay_us=delay_us)
            self.spawn(self._later(delay_us, event, params))
            return
        await self.send(event, params)
        if event == "completed":
            await self._flush()

    async def call_ended(self) -> None:
        """The call is over: held callbacks go out now unless a completed callback is still to carry them."""
        if not self.completed_seen:
            await self._flush()

    async def _later(self, delay_us: int, event: str, params: dict[str, str]) -> None:
        await asyncio.sleep(delay_us / 1e6)
        await self.send(event, params)
        if event == "completed":
            await self._flush()

    async def _flush(self) -> None:
        order = {event: i for i, event in enumerate(self.script.out_of_order)}
        held, self.held = sorted(self.held, key=lambda item: order[item[0]]), []
        for event, params in held:
            self.note(event=event, effect="sent-out-of-order")
            await self.send(event, params)
