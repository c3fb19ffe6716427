"""The audio path of one call (spec 8.2-8.3): the shared shell both implementations fill in.

``AudioPath`` owns the state and the control events the engine applies between slices; a
subclass supplies ``process`` (the per-frame procedure over a slice of a ``FrameBatch``). The
backlog flush at sender start is at most ``queue_maxsize`` frames, so both implementations share
its plain per-frame version here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np

from .config import AudioConfig
from .frames import FrameBatch

DROP_REASONS = ("ECHO_GATE", "ECHO_DECAY", "QUEUE_FULL", "CLOSING", "GATED")

LOG_QUEUING = "⏸️ [AUDIO_GATE] Queuing audio - waiting for session.updated confirmation"
LOG_CONFIRMED = "▶️ [AUDIO_GATE] Session confirmed"
LOG_SPEECH_TIMEOUT = "⏱️ [BUILD 166] Speech timeout"


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line the pipeline would have logged, at virtual time ``t_us``."""

    t_us: int
    level: str
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class SliceResult:
    """What one ``process`` call (or the sender start) did, for the engine and the trace.

    ``forwarded`` indexes the processed batch; for the backlog flushed at sender start the frames
    may come from several batches, so ``forwarded_batch`` then names each frame's batch.
    """

    forwarded: np.ndarray
    forwarded_at_us: np.ndarray
    forwarded_rms: np.ndarray
    rms: np.ndarray
    dropped: dict[str, int]
    limit_exceeded_at_us: int | None
    limit_reason: str | None
    logs: tuple[LogLine, ...]
    keepalives: np.ndarray
    forwarded_batch: tuple[FrameBatch, ...] | None = None


@dataclass
class PathState:
    """Everything the handler and sender remember between frames (spec names, snake_case)."""

    rx: int = 0
    realtime_audio_in_chunks: int = 0
    frames_in: int = 0
    total_frames_sent: int = 0
    stats_audio_sent: int = 0
    stats_audio_blocked: int = 0
    frames_dropped_by_filters: int = 0
    frames_dropped_by_queue_full: int = 0
    frames_dropped_closing: int = 0
    frames_gated: int = 0
    consecutive_voice_frames: int = 0
    is_calibrated: bool = False
    noise_floor: float = 50.0
    calibration_frames: int = 0
    total_calibration_attempts: int = 0
    vad_threshold: float = 35.0
    recent_audio_rms: float | None = None
    keepalive_count: int = 0
    last_keepalive_us: int = 0
    last_voice_us: int | None = None
    echo_consec_frames: int = 0
    echo_window_until_us: int | None = None
    is_ai_speaking: bool = False
    ai_finished_speaking_us: int | None = None
    barge_in_active: bool = False
    realtime_speech_active: bool = False
    realtime_speech_started_us: int | None = None
    barge_in_enabled_after_greeting: bool = False
    realtime_alive: bool = True
    closing: bool = False
    sender_started: bool = False
    sender_start_us: int | None = None
    queue_logged: bool = False
    limit_exceeded: bool = False
    limit_reason: str | None = None
    limit_exceeded_at_us: int | None = None
    queue: list = field(default_factory=list)  # (batch, index, rms) awaiting the sender

    def snapshot(self) -> PathState:
        """A copy for checkpoint/rollback: a dict copy is the cheapest snapshot of ~40 fields."""
        clone = object.__new__(PathState)
        clone.__dict__.update(self.__dict__)
        clone.queue = list(self.queue)
        return clone


class Collector:
    """Accumulates a slice's outcome; scalar appends and numpy parts keep their order."""

    def __init__(self) -> None:
        self._fwd: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._idx: list[int] = []
        self._t: list[int] = []
        self._rms: list[int] = []
        self.batches: list[FrameBatch] = []
        self.rms_parts: list[np.ndarray] = []
        self.dropped: Counter = Counter()
        self.logs: list[LogLine] = []
        self.keepalives: list[int] = []
        self.limit: tuple[int, str] | None = None

    def _flush(self) -> None:
        if self._idx:
            self._fwd.append((np.array(self._idx, dtype=np.int64), np.array(self._t, dtype=np.int64),
                              np.array(self._rms, dtype=np.int64)))
            self._idx, self._t, self._rms = [], [], []

    def forward(self, index: int, t_us: int, rms: int) -> None:
        self._idx.append(index)
        self._t.append(t_us)
        self._rms.append(rms)

    def forward_many(self, index: np.ndarray, t_us: np.ndarray, rms: np.ndarray) -> None:
        if len(index):
            self._flush()
            self._fwd.append((index, t_us, rms))

    def log(self, t_us: int, level: str, message: str) -> None:
        self.logs.append(LogLine(int(t_us), level, message))

    def _columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._fwd:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        if len(self._fwd) == 1:
            index, times, rms = (np.asarray(col, dtype=np.int64) for col in self._fwd[0])
        else:
            index, times, rms = (np.concatenate([part[k] for part in self._fwd]).astype(np.int64, copy=False)
                                 for k in range(3))
        return index, times, rms

    def result(self) -> SliceResult:
        self._flush()
        index, times, rms_fwd = self._columns()
        rms = np.concatenate(self.rms_parts) if self.rms_parts else np.zeros(0, np.int64)
        return SliceResult(
            forwarded=index, forwarded_at_us=times, forwarded_rms=rms_fwd, rms=rms,
            dropped={reason: self.dropped.get(reason, 0) for reason in DROP_REASONS},
            limit_exceeded_at_us=None if self.limit is None else self.limit[0],
            limit_reason=None if self.limit is None else self.limit[1],
            logs=tuple(self.logs), keepalives=np.array(self.keepalives, dtype=np.int64),
            forwarded_batch=tuple(self.batches) if self.batches else None,
        )


class AudioPath:
    """One call's audio path; subclasses implement ``process``."""

    def __init__(self, config: AudioConfig | None = None, *, last_keepalive_us: int = 0) -> None:
        self.config = config or AudioConfig()
        self._s = PathState(noise_floor=float(self.config.noise_floor_init),
                            vad_threshold=float(self.config.min_speech_rms),
                            last_keepalive_us=int(last_keepalive_us))

    # -- control events (applied between slices) -------------------------------------------
    def set_realtime_alive(self, alive: bool) -> None:
        self._s.realtime_alive = bool(alive)

    def set_last_keepalive_us(self, t_us: int) -> None:
        """The keepalive timer starts at the ``start`` event (spec 8.2 step 12)."""
        self._s.last_keepalive_us = int(t_us)

    def on_speech_started(self, t_us: int) -> None:
        """Server VAD ``speech_started``: immediate barge-in (spec 7.7 step 5)."""
        s = self._s
        s.barge_in_active = True
        s.is_ai_speaking = False
        s.realtime_speech_active = True
        s.realtime_speech_started_us = int(t_us)

    def on_speech_stopped(self, t_us: int) -> None:
        self._s.realtime_speech_active = False

    def set_barge_in_active(self, active: bool) -> None:
        self._s.barge_in_active = bool(active)

    def on_ai_speaking(self, t_us: int, speaking: bool) -> None:
        s = self._s
        if speaking:
            s.is_ai_speaking = True
        elif s.is_ai_speaking:
            s.is_ai_speaking = False
            s.ai_finished_speaking_us = int(t_us)

    def set_barge_in_enabled_after_greeting(self, enabled: bool) -> None:
        self._s.barge_in_enabled_after_greeting = bool(enabled)

    def set_closing(self, closing: bool) -> None:
        self._s.closing = bool(closing)

    def on_sender_started(self, t_us: int) -> SliceResult:
        """Session confirmed: the sender starts and drains the backlog at ``t_us`` (spec 8.3)."""
        s = self._s
        out = Collector()
        if s.sender_started:
            return out.result()
        s.sender_started = True
        s.sender_start_us = int(t_us)
        out.log(t_us, "INFO", LOG_CONFIRMED)
        flushed = []
        while s.queue and not s.limit_exceeded:
            batch, index, rms = s.queue.pop(0)
            flushed.append(rms)
            sent_before = s.stats_audio_sent
            self._dequeue_one(index, int(t_us), rms, out)
            if s.stats_audio_sent > sent_before:
                out.batches.append(batch)
        out.rms_parts.append(np.array(flushed, dtype=np.int64))
        return out.result()

    def _dequeue_one(self, index: int, t_us: int, rms: int, out: Collector) -> None:
        """Sender loop body for one dequeued frame (spec 8.3 steps 3-5)."""
        s, c = self._s, self.config
        s.frames_in += 1
        if s.closing:  # step 3
            s.frames_dropped_closing += 1
            s.stats_audio_blocked += 1  # §13.2 item 4
            out.dropped["CLOSING"] += 1
            return
        s.total_frames_sent += 1  # step 4: counted before the check
        assert s.sender_start_us is not None  # a frame is dequeued only once the sender has started
        elapsed = t_us - s.sender_start_us
        if elapsed > c.max_realtime_us or s.total_frames_sent > c.max_audio_frames_per_call:
            self._trip(t_us, elapsed, out)
            return
        s.stats_audio_sent += 1  # step 5
        out.forward(index, t_us, rms)

    def _trip(self, t_us: int, elapsed_us: int, out: Collector) -> None:
        s, c = self._s, self.config
        if elapsed_us > c.max_realtime_us:
            reason = "seconds"
            detail = (f"call_duration={elapsed_us / 1_000_000:.1f}s > "
                      f"max={c.max_realtime_seconds_per_call:g}s")
        else:
            reason = "frames"
            detail = f"frames={s.total_frames_sent} > max={c.max_audio_frames_per_call}"
        out.log(t_us, "ERROR", f"🛑 [BUILD 331] HARD LIMIT EXCEEDED! {detail}")
        out.log(t_us, "ERROR", f"🛡️ OPENAI_USAGE_GUARD: frames_sent={s.total_frames_sent} "
                               f"limit_exceeded=True")
        s.limit_exceeded = True
        s.limit_reason = reason
        s.limit_exceeded_at_us = t_us
        out.limit = (t_us, reason)

    def forwards_all_as_they_arrive(self) -> bool:
        """True when every next frame will reach the session at its arrival time (simple mode, sender
        running, nothing queued or closing): the engine can then predict the session's VAD events."""
        s = self._s
        return (self.config.simple_mode and s.sender_started and s.realtime_alive and not s.closing
                and not s.limit_exceeded and not s.queue)

    def keepalive_frame(self, arrival_us: np.ndarray, start: int, stop: int) -> int | None:
        """When no frame is echo-dropped: the index of the frame that sends the next keepalive mark, if any."""
        s = self._s
        at = start + int(np.searchsorted(arrival_us[start:stop], s.last_keepalive_us + self.config.keepalive_interval_us,
                                         side="right"))
        return at if at < stop else None

    def limit_frame(self, arrival_us: np.ndarray, start: int, stop: int) -> int | None:
        """When every frame is forwarded: the index of the frame that trips the sender's hard limit, if any.

        The frame counter is incremented before the check (the 42001st frame trips); the time limit is
        ``elapsed > max`` from the sender's start (spec 8.3 step 4).
        """
        s, c = self._s, self.config
        if not s.sender_started or s.limit_exceeded:
            return None
        assert s.sender_start_us is not None  # set together with sender_started
        by_frames = start + max(0, c.max_audio_frames_per_call - s.total_frames_sent)
        by_time = start + int(np.searchsorted(arrival_us[start:stop], s.sender_start_us + c.max_realtime_us,
                                              side="right"))
        trip = min(by_frames, by_time)
        return trip if trip < stop else None

    # -- per slice ---------------------------------------------------------------------------
    def process(self, batch: FrameBatch, start: int = 0, stop: int | None = None) -> SliceResult:
        raise NotImplementedError

    # -- state --------------------------------------------------------------------------------
    def checkpoint(self) -> PathState:
        return self._s.snapshot()

    def rollback(self, token: PathState) -> None:
        self._s = token.snapshot()

    @property
    def counters(self) -> dict:
        values = {f.name: getattr(self._s, f.name) for f in fields(PathState) if f.name != "queue"}
        values["queued"] = len(self._s.queue)
        return values
