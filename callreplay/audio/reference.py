"""The per-frame procedure of spec 8.2 written out plainly, one method per step.

This is the readable model and the oracle ``FastAudioPath`` is tested against. Where the spec is
silent we choose, and say so: an echo-gate drop ends the frame's handling (the original
``continue``s out of the media branch), so steps 11-12 do not run for it.
"""

from __future__ import annotations

import numpy as np

from .frames import FrameBatch
from .path import LOG_QUEUING, LOG_SPEECH_TIMEOUT, AudioPath, Collector, SliceResult


class ReferenceAudioPath(AudioPath):
    """Frame by frame, in arrival order."""

    def process(self, batch: FrameBatch, start: int = 0, stop: int | None = None) -> SliceResult:
        stop = len(batch) if stop is None else stop
        out = Collector()
        rms_all = batch.rms()
        for i in range(start, stop):
            self._frame(batch, i, int(batch.arrival_us[i]), int(rms_all[i]), out)
        out.rms_parts.append(np.asarray(rms_all[start:stop]))
        return out.result()

    def _frame(self, batch: FrameBatch, i: int, t: int, rms: int, out: Collector) -> None:
        s = self._s
        s.rx += 1  # step 1: counted before any filter
        s.realtime_audio_in_chunks += 1
        if s.limit_exceeded:  # 8.3 step 4: the sender stopped the call; nothing else happens
            return
        # steps 2 and 4 (decode, rms) are the batch's cached rms; step 3 is the arrival time
        self._ema(rms)  # step 6
        bypass = self._speech_bypass(t, out)  # step 7
        is_noise = self._noise_flag(rms, bypass)  # step 8
        if not s.is_calibrated:
            self._calibrate(t, rms, is_noise, out)  # step 9
        if s.realtime_alive and not self._route(batch, i, t, rms, is_noise, bypass, out):
            return  # step 10 dropped the frame in the echo gate
        self._legacy_vad(t, rms)  # step 11
        self._keepalive(t, out)  # step 12

    def _ema(self, rms: int) -> None:
        """Step 6: exponential moving average, seeded by the first frame."""
        s = self._s
        if s.recent_audio_rms is None:
            s.recent_audio_rms = float(rms)
        else:
            s.recent_audio_rms = 0.3 * rms + 0.7 * s.recent_audio_rms

    def _speech_bypass(self, t: int, out: Collector) -> bool:
        """Step 7: server-VAD speech bypass, forced off after the speech timeout."""
        s = self._s
        if s.realtime_speech_active:
            assert s.realtime_speech_started_us is not None  # set together with realtime_speech_active
            if t - s.realtime_speech_started_us > self.config.speech_timeout_us:
                s.realtime_speech_active = False
                out.log(t, "WARNING", LOG_SPEECH_TIMEOUT)
        return s.realtime_speech_active

    def _noise_flag(self, rms: int, bypass: bool) -> bool:
        """Step 8: quiet frames are noise unless barge-in or the bypass is on."""
        if self._s.barge_in_active:
            return False
        return rms < self.config.rms_silence_threshold and not bypass

    def _calibrate(self, t: int, rms: int, is_noise: bool, out: Collector) -> None:
        """Step 9: noise-floor calibration; the initial floor has weight 0."""
        s, c = self._s, self.config
        s.total_calibration_attempts += 1
        if is_noise:
            n = s.calibration_frames
            s.noise_floor = (s.noise_floor * n + rms) / (n + 1)
            s.calibration_frames = n + 1
        n = s.calibration_frames
        if n >= c.calibration_noise_frames or s.total_calibration_attempts >= c.calibration_max_attempts:
            if n < c.calibration_min_noise_frames:
                s.vad_threshold = c.vad_baseline_timeout
                out.log(t, "WARNING", f"🎛️ [VAD] TIMEOUT - using baseline threshold={s.vad_threshold}")
            else:
                s.vad_threshold = min(c.vad_adaptive_cap, s.noise_floor + c.vad_adaptive_offset)
                out.log(t, "INFO", f"✅ [VAD] Calibrated: noise={s.noise_floor:.1f}, "
                                   f"threshold={s.vad_threshold:.1f}")
            s.is_calibrated = True

    def _route(self, batch: FrameBatch, i: int, t: int, rms: int, is_noise: bool, bypass: bool,
               out: Collector) -> bool:
        """Step 10: echo gate, voice counter, send decision, enqueue. False = echo-dropped."""
        s, c = self._s, self.config
        if not c.simple_mode and not s.barge_in_enabled_after_greeting:
            reason = self._echo_gate(t, rms)
            if reason is not None:
                s.stats_audio_blocked += 1
                s.frames_dropped_by_filters += 1
                out.dropped[reason] += 1
                return False
        elif s.barge_in_enabled_after_greeting:
            s.echo_consec_frames = 0
        self._count_voice(rms, is_noise)
        if self._send_decision(is_noise, bypass):
            self._enqueue(batch, i, t, rms, out)
        else:
            s.frames_gated += 1
            out.dropped["GATED"] += 1
            if s.frames_gated % 100 == 0:
                out.log(t, "INFO", f"🔇 [AUDIO GATE] Blocked {s.frames_gated} frames")
        return True

    def _echo_gate(self, t: int, rms: int) -> str | None:
        """Step 10, echo gate (not in SIMPLE_MODE): the drop reason, or None to pass."""
        s, c = self._s, self.config
        threshold = max(s.noise_floor * c.echo_gate_noise_multiplier, c.echo_gate_min_rms)
        s.echo_consec_frames = s.echo_consec_frames + 1 if rms > threshold else 0
        if s.echo_consec_frames >= c.echo_gate_min_frames:
            s.echo_window_until_us = t + c.forwarding_window_us
        window_open = s.echo_window_until_us is not None and t < s.echo_window_until_us
        exempt = s.barge_in_active or s.realtime_speech_active or window_open
        if s.is_ai_speaking:
            return None if exempt else "ECHO_GATE"
        if s.ai_finished_speaking_us is not None:
            if t - s.ai_finished_speaking_us < c.cooldown_us:
                return None if exempt else "ECHO_DECAY"
            s.ai_finished_speaking_us = None  # after the cooldown: reset flags and window
            s.echo_window_until_us = None
        return None

    def _count_voice(self, rms: int, is_noise: bool) -> None:
        """Step 10, consecutive voice frames with the max(0, n-2) decay."""
        s = self._s
        if not is_noise and rms >= self.config.min_speech_rms:
            s.consecutive_voice_frames += 1
        elif not s.barge_in_active:
            s.consecutive_voice_frames = max(0, s.consecutive_voice_frames - 2)

    def _send_decision(self, is_noise: bool, bypass: bool) -> bool:
        """Step 10, send decision: SIMPLE_MODE always sends."""
        s, c = self._s, self.config
        if c.simple_mode:
            return True
        if s.barge_in_active or s.realtime_speech_active:
            return True
        return (s.consecutive_voice_frames >= c.required_voice_frames or bypass) and not is_noise

    def _enqueue(self, batch: FrameBatch, i: int, t: int, rms: int, out: Collector) -> None:
        """Step 10, ``put_nowait``; a running sender takes the frame at once (spec 8.3)."""
        s, c = self._s, self.config
        if s.sender_started:
            self._dequeue_one(i, t, rms, out)
            return
        if len(s.queue) >= c.queue_maxsize:
            s.frames_dropped_by_queue_full += 1
            s.stats_audio_blocked += 1  # §13.2 item 4: queue-full drops count as blocked too
            out.dropped["QUEUE_FULL"] += 1
            if (s.frames_dropped_by_queue_full - 1) % 50 == 0:
                out.log(t, "WARNING", f"⚠️ [QUEUE_FULL] Dropped {s.frames_dropped_by_queue_full} frames")
            return
        if not s.queue_logged:
            s.queue_logged = True
            out.log(t, "INFO", LOG_QUEUING)
        s.queue.append((batch, i, rms))

    def _legacy_vad(self, t: int, rms: int) -> None:
        """Step 11: legacy local VAD; only ``last_voice_ts`` survives on the Realtime path."""
        s = self._s
        threshold = s.vad_threshold if s.is_calibrated else self.config.min_speech_rms
        if rms > threshold and rms > s.vad_threshold * 1.2:
            s.last_voice_us = t

    def _keepalive(self, t: int, out: Collector) -> None:
        """Step 12: ``heartbeat_{n}`` mark when more than the interval has passed."""
        s = self._s
        if t - s.last_keepalive_us > self.config.keepalive_interval_us:
            s.keepalive_count += 1
            s.last_keepalive_us = t
            out.keepalives.append(t)
