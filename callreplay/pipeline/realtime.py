"""The OpenAI Realtime session of one call, as the replay needs it (spec §7.6-7.7, §8.3).

It records every ``session.update`` (instructions, formats, voice, turn detection) with the
provenance of the prompt behind it, counts and digests every ``input_audio_buffer.append``, and
produces response turns: the greeting, server-VAD turns after the caller stops speaking, and
turns a scenario scripts with a ``realtime`` step. Each turn remembers which prompt was bound
when it was created, which is how ``prompt-outlived-ttl`` counts the turns a stale prompt drove.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..scheduler import TaskHandle
from .context import BuiltPrompt, PipelineContext

if TYPE_CHECKING:  # pragma: no cover
    from ..audio.frames import FrameBatch

COMPONENT = "realtime"
SESSION_RETRY_US = 3_000_000
SESSION_TIMEOUT_US = 8_000_000


@dataclass
class Turn:
    turn_id: int
    reason: str
    created_us: int
    duration_us: int
    prompt_id: int | None
    audio_start_us: int | None = None
    done_handle: TaskHandle | None = None
    done: bool = False


class SessionListener(Protocol):
    """What the session reports to its call (the media-stream handler implements it)."""

    @property
    def call_sid(self) -> str | None: ...

    def on_session_slow(self, payload: dict[str, Any], prompt: BuiltPrompt) -> None: ...

    def on_session_failed(self) -> None: ...

    def on_session_updated(self) -> None: ...

    def on_response_audio(self, turn: Turn) -> None: ...

    def on_response_done(self, turn: Turn, cancelled: bool) -> None: ...


class RealtimeSession:
    """The call's realtime session; it reports to a :class:`SessionListener`, never to the handler's internals."""

    def __init__(self, ctx: PipelineContext, handler: SessionListener, *, keep_audio: bool = False) -> None:
        self.ctx = ctx
        self.handler = handler
        self.instructions: str | None = None
        self.bound: BuiltPrompt | None = None
        self.confirmed = False
        self.failed = False  # no session.updated within 8 s: the call goes on with no AI (H14)
        self.closed = False
        self.updates = 0
        self.turns: list[Turn] = []
        self.active: Turn | None = None
        self.appended_frames = 0
        self._digest = hashlib.sha256()
        self.keep_audio = keep_audio
        self.received: list[bytes] = []

    @property
    def call(self) -> str | None:
        return self.handler.call_sid

    def session_update(self, payload: dict, prompt: BuiltPrompt, *, reason: str) -> None:
        ctx = self.ctx
        session = payload["session"]
        self.updates += 1
        self.instructions = session["instructions"]
        self.bound = prompt
        ctx.emit(self.call, COMPONENT, "realtime.session_update", reason=reason, instructions=session["instructions"],
                 prompt_id=prompt.provenance.prompt_id, voice=session["voice"],
                 input_audio_format=session["input_audio_format"], output_audio_format=session["output_audio_format"],
                 turn_detection=session["turn_detection"], temperature=session["temperature"],
                 modalities=session["modalities"], update_number=self.updates)
        if self.updates == 1:
            self._await_confirmation(payload, prompt)

    def _await_confirmation(self, payload: dict, prompt: BuiltPrompt) -> None:
        """The handler waits for ``session.updated``: a forced re-send at 3 s, a fatal timeout at 8 s (§7.6, H14)."""
        ctx, sid = self.ctx, (self.call or "")[:8]
        latency = ctx.config.session_confirm_latency_us
        if latency < SESSION_TIMEOUT_US:
            ctx.scheduler.call_later(latency, f"SessionUpdated-{sid}", self._confirmed)
        if latency > SESSION_RETRY_US:
            ctx.scheduler.call_later(SESSION_RETRY_US, f"SessionRetry-{sid}",
                                     lambda: self._retry(payload, prompt))
        if latency >= SESSION_TIMEOUT_US:
            ctx.scheduler.call_later(SESSION_TIMEOUT_US, f"SessionTimeout-{sid}", self._timeout)

    def _retry(self, payload: dict, prompt: BuiltPrompt) -> None:
        if self.confirmed or self.closed or self.failed:
            return
        self.handler.on_session_slow(payload, prompt)
        self.session_update(payload, prompt, reason="retry")

    def _timeout(self) -> None:
        if self.confirmed or self.closed:
            return
        self.failed = True
        self.ctx.emit(self.call, COMPONENT, "realtime.session_failed", reason="no session.updated within 8 s")
        self.handler.on_session_failed()

    def rebind(self, prompt: BuiltPrompt, *, reason: str) -> None:
        """The same instructions re-validated against the current settings: no wire update, a fresh prompt."""
        self.bound = prompt
        self.ctx.emit(self.call, COMPONENT, "realtime.prompt_revalidated", reason=reason,
                      prompt_id=prompt.provenance.prompt_id)

    def _confirmed(self) -> None:
        if self.closed or self.failed:
            return
        self.confirmed = True
        self.ctx.emit(self.call, COMPONENT, "realtime.session_updated")
        self.handler.on_session_updated()

    # -- audio -----------------------------------------------------------------------------------
    def append_audio(self, batches: tuple[FrameBatch, ...], indices: np.ndarray, times_us: np.ndarray) -> None:
        """Frames forwarded by the sender, in order; ``batches[k]`` holds frame ``indices[k]``."""
        if self.closed or not len(indices):
            return
        ctx = self.ctx
        if not self.confirmed or not self.instructions:
            ctx.emit(self.call, COMPONENT, "realtime.audio_before_instructions", frames=int(len(indices)),
                     first_us=int(times_us[0]), instructions_set=bool(self.instructions))
        first_seq = last_seq = None
        for batch, group_idx in _group_by_batch(batches, indices):
            data = _payload_bytes(batch, group_idx)
            self._digest.update(data)
            if self.keep_audio:
                self.received.extend(batch.payload_bytes(int(i)) for i in group_idx)
            if first_seq is None:
                first_seq = int(batch.seq[group_idx[0]])
            last_seq = int(batch.seq[group_idx[-1]])
        self.appended_frames += int(len(indices))
        ctx.trace.emit(int(times_us[-1]), self.call, COMPONENT, "realtime.audio_append", frames=int(len(indices)),
                       first_seq=first_seq, last_seq=last_seq, first_us=int(times_us[0]),
                       total_frames=self.appended_frames, prompt_id=self.bound.provenance.prompt_id if self.bound else None)

    def audio_digest(self) -> str:
        return self._digest.hexdigest()

    # -- responses -------------------------------------------------------------------------------
    def create_response(self, reason: str, duration_us: int) -> Turn:
        ctx = self.ctx
        turn = Turn(len(self.turns) + 1, reason, ctx.now, duration_us,
                    self.bound.provenance.prompt_id if self.bound else None)
        self.turns.append(turn)
        ctx.emit(self.call, COMPONENT, "realtime.response_created", turn=turn.turn_id, reason=reason,
                 prompt_id=turn.prompt_id, duration_us=duration_us)
        ctx.scheduler.call_later(ctx.config.response_latency_us, f"ResponseAudio-{turn.turn_id}",
                                 lambda: self._audio_start(turn))
        return turn

    def _audio_start(self, turn: Turn) -> None:
        if self.closed or turn.done:
            return
        if self.active is not None and not self.active.done:
            self._finish(self.active, cancelled=True, why="superseded")
        self.active = turn
        turn.audio_start_us = self.ctx.now
        self.ctx.emit(self.call, COMPONENT, "realtime.response_audio", turn=turn.turn_id, reason=turn.reason,
                      prompt_id=turn.prompt_id, duration_us=turn.duration_us)
        self.handler.on_response_audio(turn)
        turn.done_handle = self.ctx.scheduler.call_later(turn.duration_us, f"ResponseDone-{turn.turn_id}",
                                                         lambda: self._finish(turn, cancelled=False))

    def cancel_active(self, why: str) -> Turn | None:
        turn = self.active
        if turn is None or turn.done:
            return None
        if turn.done_handle is not None:
            turn.done_handle.cancel()
        self._finish(turn, cancelled=True, why=why)
        return turn

    def _finish(self, turn: Turn, *, cancelled: bool, why: str | None = None) -> None:
        if turn.done:
            return
        turn.done = True
        if self.active is turn:
            self.active = None
        self.ctx.emit(self.call, COMPONENT, "realtime.response_done", turn=turn.turn_id, cancelled=cancelled,
                      why=why, played_us=self.ctx.now - (turn.audio_start_us or self.ctx.now))
        self.handler.on_response_done(turn, cancelled)

    def close(self) -> None:
        if self.closed:
            return
        self.cancel_active("session closed")
        self.closed = True
        self.ctx.emit(self.call, COMPONENT, "realtime.session_closed", appended_frames=self.appended_frames,
                      audio_sha256=self.audio_digest(), turns=len(self.turns), updates=self.updates)


def _group_by_batch(batches, indices: np.ndarray):
    """Split ``indices`` into runs that share a batch, keeping order."""
    if len(batches) == 1:
        yield batches[0], indices
        return
    start = 0
    for k in range(1, len(indices) + 1):
        if k == len(indices) or batches[k] is not batches[start]:
            yield batches[start], indices[start:k]
            start = k


def _payload_bytes(batch, indices: np.ndarray) -> bytes:
    """The raw mu-law bytes of the given frames, concatenated in order."""
    if batch.payload is not None:
        return batch.payload[indices].tobytes()
    return b"".join(batch.irregular[int(i)] for i in indices)
