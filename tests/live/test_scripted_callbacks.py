"""The scripted delivery of a REST-created call's status callbacks: what is sent, in which order, and what never."""

from __future__ import annotations

import asyncio

from callreplay.live.callbacks import ScriptedCallbacks
from callreplay.scenario.model import CallbackScript

LIFECYCLE = ("initiated", "ringing", "answered", "completed")


def deliver(script: CallbackScript, subscribed: tuple[str, ...] = LIFECYCLE) -> tuple[list[str], list[tuple]]:
    """(events sent in order, (event, effect) notes) of one call's lifecycle under ``script``."""
    sent: list[str] = []
    notes: list[tuple] = []

    async def send(event: str, params: dict[str, str]) -> None:
        assert params["CallStatus"] == event  # fixed when the event happened, whenever it is sent
        sent.append(event)

    async def main() -> None:
        tasks: list[asyncio.Task] = []
        shaper = ScriptedCallbacks(script, send, lambda work: tasks.append(asyncio.ensure_future(work)),
                                   lambda **note: notes.append((note["event"], note["effect"])))
        for event in subscribed:
            await shaper.deliver(event, {"CallStatus": event})
        await shaper.call_ended()
        await asyncio.wait_for(asyncio.gather(*tasks), 2)

    asyncio.run(main())
    return sent, notes


def test_out_of_order_events_follow_the_completed_callback_in_the_listed_order():
    sent, notes = deliver(CallbackScript(out_of_order=("answered", "ringing")))
    assert sent == ["initiated", "completed", "answered", "ringing"]
    assert ("answered", "held") in notes and ("ringing", "sent-out-of-order") in notes


def test_a_late_completed_callback_still_carries_the_held_ones_after_it():
    sent, _ = deliver(CallbackScript(delay_us={"completed": 20_000}, out_of_order=("answered",)))
    assert sent == ["initiated", "ringing", "completed", "answered"]


def test_dropped_events_are_never_sent_and_held_ones_go_when_the_call_ends():
    sent, notes = deliver(CallbackScript(drop=("completed",), out_of_order=("answered",)))
    assert sent == ["initiated", "ringing", "answered"] and ("completed", "dropped") in notes
    sent, _ = deliver(CallbackScript(out_of_order=("answered",)), subscribed=("initiated", "answered"))
    assert sent == ["initiated", "answered"]  # completed not subscribed: released at the call's end
