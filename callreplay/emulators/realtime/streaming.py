"""Paced delivery of one reply: audio chunks on a real-time schedule, transcript words spread over them.

Chunk ``k`` leaves at ``start + latency + (audio before k) / rate`` on the event loop's monotonic clock,
so pacing does not drift with send times; a cancel wakes the wait at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .catalogue import AudioFormat

SendChunk = Callable[[bytes, str], Awaitable[None]]


@dataclass(slots=True)
class ActiveResponse:
    """A reply in flight. ``cancel_reason`` is set by whoever stops it (``client_cancelled``, ``turn_detected``)."""

    id: str
    item_id: str
    reason: str
    duration_us: int
    transcript: str
    fmt: AudioFormat | None
    cancel_reason: str | None = None
    _waiter: asyncio.Future | None = None
    sent_bytes: int = 0
    spoken: list[str] = field(default_factory=list)
    task: asyncio.Task | None = None

    def stop(self, reason: str) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        if self._waiter is not None:
            _release(self._waiter)

    @property
    def cancelled(self) -> bool:
        return self.cancel_reason is not None

    @property
    def audio_ms(self) -> float:
        return self.fmt.duration_us(self.sent_bytes) / 1000 if self.fmt else 0.0

    @property
    def spoken_text(self) -> str:
        return "".join(self.spoken)


def chunk_sizes(total: int, chunk: int) -> list[int]:
    """Chunk lengths covering ``total`` bytes (the last may be shorter)."""
    if total <= 0:
        return []
    full, rest = divmod(total, chunk)
    return [chunk] * full + ([rest] if rest else [])


def words_due(words: list[str], n_chunks: int) -> list[list[str]]:
    """Words to send with each chunk, spread evenly; every word is sent by the last chunk."""
    if n_chunks <= 0:
        return []
    out: list[list[str]] = []
    given = 0
    for i in range(n_chunks):
        upto = math.ceil((i + 1) * len(words) / n_chunks)
        out.append(words[given:upto])
        given = upto
    return out


def _release(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _wait(resp: ActiveResponse, seconds: float) -> bool:
    """Sleep ``seconds`` unless stopped first; True when stopped. A timer and a future, no task per
    chunk: hundreds of paced replies share one loop."""
    if resp.cancelled:
        return True
    if seconds <= 0:
        await asyncio.sleep(0)
        return resp.cancelled
    loop = asyncio.get_running_loop()
    waiter = resp._waiter = loop.create_future()
    timer = loop.call_later(seconds, _release, waiter)
    try:
        await waiter
    finally:
        timer.cancel()
        resp._waiter = None
    return resp.cancelled


async def deliver(resp: ActiveResponse, audio: bytes, chunk_bytes: int, rate: float, latency_s: float,
                  send: SendChunk) -> bool:
    """Send ``audio`` and the transcript through ``send(chunk, words)``; True if it ran to the end."""
    loop = asyncio.get_running_loop()
    start = loop.time() + latency_s
    words = resp.transcript.split()
    sizes = chunk_sizes(len(audio), chunk_bytes) if resp.fmt else []
    if not sizes:  # text-only reply: the words go out at once after the latency
        if await _wait(resp, latency_s):
            return False
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            await send(b"", piece)
            resp.spoken.append(piece)
        return True
    plan = words_due(words, len(sizes))
    offset = 0
    for size, due in zip(sizes, plan, strict=True):
        played_s = resp.fmt.duration_us(offset) / 1e6 if resp.fmt else 0.0
        target = start + (played_s / rate if math.isfinite(rate) else 0.0)
        if await _wait(resp, target - loop.time()):
            return False
        text = "".join(w if not resp.spoken and j == 0 else " " + w for j, w in enumerate(due))
        await send(audio[offset:offset + size], text)
        resp.sent_bytes += size
        if text:
            resp.spoken.append(text)
        offset += size
    return True
