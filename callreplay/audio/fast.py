"""The per-frame procedure of spec 8.2-8.3 over whole numpy slices.

Between state changes the gate is a pure function of each frame's rms, so a run of frames is
done with array operations. The few frames where state changes non-linearly (calibration, the
speech timeout, the echo-decay reset, the hard-limit trip) go through the reference code one at
a time; everything else, including the voice counter's ``max(0, n-2)`` decay (a Lindley
recursion: ``n_k = S_k - min(-n_0, min_j S_j)``), is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import FrameBatch
from .path import LOG_QUEUING, Collector, SliceResult
from .reference import ReferenceAudioPath

_NONE = np.iinfo(np.int64).min


def _first(mask: np.ndarray) -> int:
    """Index of the first True, or len(mask)."""
    if not len(mask):
        return 0
    at = int(mask.argmax())
    return at if mask[at] else len(mask)


def _greedy_marks(times: np.ndarray, last: int, interval: int) -> list[int]:
    """Times of successive keepalives: each at the first frame more than ``interval`` later."""
    marks: list[int] = []
    if not len(times):
        return marks
    ordered = bool(np.all(times[1:] >= times[:-1]))
    pos = 0
    while pos < len(times):
        if ordered:
            pos = int(np.searchsorted(times, last + interval, side="right"))
            if pos >= len(times):
                break
        else:
            offset = _first(times[pos:] - last > interval)
            pos += offset
            if pos >= len(times):
                break
        last = int(times[pos])
        marks.append(last)
        pos += 1
    return marks


@dataclass(slots=True)
class _Plan:
    """The outcome of a run of frames, computed without touching the state."""

    stop: int
    trip: int | None
    echo_drop: np.ndarray
    echo_reason: str
    echo_consec: int
    echo_until: int | None
    voice_last: int | None
    gated: np.ndarray
    queued: np.ndarray
    full: np.ndarray
    closing: np.ndarray
    forwarded: np.ndarray
    reach: np.ndarray


class FastAudioPath(ReferenceAudioPath):
    """Same observable behaviour as ``ReferenceAudioPath``; numpy over runs of frames."""

    def process(self, batch: FrameBatch, start: int = 0, stop: int | None = None) -> SliceResult:
        stop = len(batch) if stop is None else stop
        out = Collector()
        rms_all = batch.rms()
        times = batch.arrival_us
        pos = start
        while pos < stop:
            s = self._s
            if s.limit_exceeded:
                s.rx += stop - pos
                s.realtime_audio_in_chunks += stop - pos
                break
            if not s.is_calibrated:
                self._frame(batch, pos, int(times[pos]), int(rms_all[pos]), out)
                pos += 1
                continue
            cut = self._next_cut(times, pos, stop)
            if cut == stop and self._steady(batch, pos, stop, out):
                break
            if cut > pos:
                plan = self._plan(batch, pos, cut)
                if plan.trip is not None:
                    cut = plan.trip
                    plan = self._plan(batch, pos, cut)
                self._commit(batch, pos, plan, out)
            if cut < stop:
                self._frame(batch, cut, int(times[cut]), int(rms_all[cut]), out)
            pos = cut + 1
        out.rms_parts.append(np.asarray(rms_all[start:stop]))
        return out.result()

    def _steady(self, batch: FrameBatch, a: int, b: int, out: Collector) -> bool:
        """Frames a..b-1 in production's steady state, if that is where the call is (else False).

        Simple mode, calibrated, the sender running, nothing queued, no limit reached within the run:
        every frame is forwarded as it arrives, so only the counters, the voice counter, the legacy VAD
        timestamp and the keepalives are left to compute.
        """
        s, c = self._s, self.config
        if not (c.simple_mode and s.is_calibrated and s.sender_started and s.realtime_alive and not s.closing
                and not s.limit_exceeded and not s.queue):
            return False  # (a speech-timeout frame inside the run was already cut off by _next_cut)
        assert s.sender_start_us is not None  # set together with sender_started
        t = batch.arrival_us[a:b]
        m = b - a
        over_frames = s.total_frames_sent + m > c.max_audio_frames_per_call
        if over_frames or int(t[-1]) - s.sender_start_us > c.max_realtime_us:
            return False
        rms = batch.rms()[a:b]
        s.rx += m
        s.realtime_audio_in_chunks += m
        ema = s.recent_audio_rms
        for value in rms.tolist():  # step 6, bit-identical to the reference
            ema = float(value) if ema is None else 0.3 * value + 0.7 * ema
        s.recent_audio_rms = ema
        barge = s.barge_in_active
        if barge or s.realtime_speech_active:  # step 8: no frame is noise
            voice = rms >= c.min_speech_rms
        else:
            voice = (rms >= c.rms_silence_threshold) & (rms >= c.min_speech_rms)
        sums = np.cumsum(np.where(voice, 1, 0 if barge else -2))
        s.consecutive_voice_frames = int(sums[-1] - min(int(np.minimum.accumulate(sums)[-1]),
                                                        -s.consecutive_voice_frames))
        if s.barge_in_enabled_after_greeting:
            s.echo_consec_frames = 0
        s.frames_in += m
        s.total_frames_sent += m
        s.stats_audio_sent += m
        out.forward_many(np.arange(a, b, dtype=np.int64), t, rms)
        self._after_routing(rms, t, out)
        return True

    def _after_routing(self, rms: np.ndarray, t: np.ndarray, out: Collector) -> None:
        """Steps 11-12 for frames that were not echo-dropped: the legacy VAD timestamp and keepalive marks."""
        s = self._s
        strong = np.flatnonzero((rms > s.vad_threshold) & (rms > s.vad_threshold * 1.2))  # calibrated by now
        if len(strong):
            s.last_voice_us = int(t[strong[-1]])
        marks = _greedy_marks(t, s.last_keepalive_us, self.config.keepalive_interval_us)
        if marks:
            s.keepalive_count += len(marks)
            s.last_keepalive_us = marks[-1]
            out.keepalives.extend(marks)

    def _next_cut(self, times: np.ndarray, pos: int, stop: int) -> int:
        """First frame whose handling changes state irregularly (done by the reference code)."""
        s, c = self._s, self.config
        cut = stop
        if s.realtime_speech_active:
            cut = min(cut, pos + _first(times[pos:stop] - s.realtime_speech_started_us > c.speech_timeout_us))
        gate_on = s.realtime_alive and not c.simple_mode and not s.barge_in_enabled_after_greeting
        if gate_on and not s.is_ai_speaking and s.ai_finished_speaking_us is not None:
            cut = min(cut, pos + _first(times[pos:cut] - s.ai_finished_speaking_us >= c.cooldown_us))
        return cut

    def _plan(self, batch: FrameBatch, a: int, b: int) -> _Plan:
        """Steps 8-12 for frames a..b-1, given constant flags and no irregular state change."""
        s, c = self._s, self.config
        rms = batch.rms()[a:b]
        t = batch.arrival_us[a:b]
        m = b - a
        idx = np.arange(m)
        barge, speech = s.barge_in_active, s.realtime_speech_active
        if barge:
            is_noise = np.zeros(m, dtype=bool)
        else:
            is_noise = (rms < c.rms_silence_threshold) & (not speech)
        echo_drop = np.zeros(m, dtype=bool)
        echo_reason, echo_consec, echo_until = "", s.echo_consec_frames, s.echo_window_until_us
        empty = np.zeros(0, dtype=np.int64)
        if not s.realtime_alive:
            return _Plan(b, None, echo_drop, "", echo_consec, echo_until, None, empty, empty,
                         empty, empty, empty, idx)
        if not c.simple_mode and not s.barge_in_enabled_after_greeting:
            echo_drop, echo_reason, echo_consec, echo_until = self._echo_plan(rms, t, idx)
        elif s.barge_in_enabled_after_greeting:
            echo_consec = 0
        routed = np.flatnonzero(~echo_drop)
        # consecutive voice frames: +1 on voice, else max(0, n-2) (frozen during barge-in)
        voice = ~is_noise[routed] & (rms[routed] >= c.min_speech_rms)
        steps = np.where(voice, 1, 0 if barge else -2).astype(np.int64)
        sums = np.cumsum(steps)
        counts = sums - np.minimum(np.minimum.accumulate(sums), -s.consecutive_voice_frames) \
            if len(sums) else sums
        voice_last = int(counts[-1]) if len(counts) else None
        if c.simple_mode or barge or speech:
            send = np.ones(len(routed), dtype=bool)
        else:
            send = (counts >= c.required_voice_frames) & ~is_noise[routed]
        gated, sent = routed[~send], routed[send]
        queued = full = closing = forwarded = empty
        trip = None
        if not s.sender_started:
            room = max(0, c.queue_maxsize - len(s.queue))
            queued, full = sent[:room], sent[room:]
        elif s.closing:
            closing = sent
        else:
            total = s.total_frames_sent + np.arange(1, len(sent) + 1)
            over = (t[sent] - s.sender_start_us > c.max_realtime_us) | (total > c.max_audio_frames_per_call)
            k = _first(over)
            if k < len(sent):
                trip = a + int(sent[k])
            forwarded = sent
        return _Plan(b, trip, echo_drop, echo_reason, echo_consec, echo_until, voice_last, gated,
                     queued, full, closing, forwarded, routed)

    def _echo_plan(self, rms: np.ndarray, t: np.ndarray, idx: np.ndarray):
        """Echo gate over a run: consec run lengths, forwarding windows, drops."""
        s, c = self._s, self.config
        threshold = max(s.noise_floor * c.echo_gate_noise_multiplier, c.echo_gate_min_rms)
        above = rms > threshold
        last_below = np.maximum.accumulate(np.where(above, -1, idx))
        consec = np.where(last_below >= 0, idx - last_below, s.echo_consec_frames + idx + 1)
        opens = consec >= c.echo_gate_min_frames
        last_open = np.maximum.accumulate(np.where(opens, idx, -1))
        prior = _NONE if s.echo_window_until_us is None else s.echo_window_until_us
        until = np.where(last_open >= 0, t[np.maximum(last_open, 0)] + c.forwarding_window_us, prior)
        window_open = (until != _NONE) & (t < until)
        reason = ""
        drop = np.zeros(len(rms), dtype=bool)
        if not (s.barge_in_active or s.realtime_speech_active):
            if s.is_ai_speaking:
                drop, reason = ~window_open, "ECHO_GATE"
            elif s.ai_finished_speaking_us is not None:
                drop, reason = ~window_open, "ECHO_DECAY"
        end_until = int(until[-1]) if len(until) else prior
        return drop, reason, int(consec[-1]) if len(consec) else s.echo_consec_frames, \
            None if end_until == _NONE else end_until

    def _commit(self, batch: FrameBatch, a: int, p: _Plan, out: Collector) -> None:
        """Apply a plan's counters, logs and outputs to the state, in frame order."""
        s = self._s
        m = p.stop - a
        rms = batch.rms()[a:p.stop]
        t = batch.arrival_us[a:p.stop]
        s.rx += m
        s.realtime_audio_in_chunks += m
        ema = s.recent_audio_rms
        for value in rms.tolist():  # step 6: float recurrence, kept bit-identical to the reference
            ema = float(value) if ema is None else 0.3 * value + 0.7 * ema
        s.recent_audio_rms = ema
        logs: list[tuple[int, int, str, str]] = []
        n_echo = int(p.echo_drop.sum())
        if n_echo:
            s.stats_audio_blocked += n_echo
            s.frames_dropped_by_filters += n_echo
            out.dropped[p.echo_reason] += n_echo
        s.echo_consec_frames, s.echo_window_until_us = p.echo_consec, p.echo_until
        if p.voice_last is not None:
            s.consecutive_voice_frames = p.voice_last
        if len(p.gated):
            numbers = s.frames_gated + np.arange(1, len(p.gated) + 1)
            for j in np.flatnonzero(numbers % 100 == 0):
                logs.append((int(p.gated[j]), 0, "INFO", f"🔇 [AUDIO GATE] Blocked {int(numbers[j])} frames"))
            s.frames_gated += len(p.gated)
            out.dropped["GATED"] += len(p.gated)
        if len(p.queued):
            if not s.queue_logged:
                s.queue_logged = True
                logs.append((int(p.queued[0]), 0, "INFO", LOG_QUEUING))
            s.queue.extend(zip([batch] * len(p.queued), (a + p.queued).tolist(), rms[p.queued].tolist(), strict=True))
        if len(p.full):
            numbers = s.frames_dropped_by_queue_full + np.arange(1, len(p.full) + 1)
            for j in np.flatnonzero((numbers - 1) % 50 == 0):
                logs.append((int(p.full[j]), 0, "WARNING", f"⚠️ [QUEUE_FULL] Dropped {int(numbers[j])} frames"))
            s.frames_dropped_by_queue_full += len(p.full)
            s.stats_audio_blocked += len(p.full)  # §13.2 item 4
            out.dropped["QUEUE_FULL"] += len(p.full)
        if len(p.closing):
            s.frames_in += len(p.closing)
            s.frames_dropped_closing += len(p.closing)
            s.stats_audio_blocked += len(p.closing)  # §13.2 item 4
            out.dropped["CLOSING"] += len(p.closing)
        if len(p.forwarded):
            n = len(p.forwarded)
            s.frames_in += n
            s.total_frames_sent += n
            s.stats_audio_sent += n
            out.forward_many(a + p.forwarded, t[p.forwarded], rms[p.forwarded])
        for position, _, level, message in sorted(logs, key=lambda item: item[0]):
            out.log(int(t[position]), level, message)
        # steps 11-12 on every frame that was not echo-dropped
        self._after_routing(rms[p.reach], t[p.reach], out)
