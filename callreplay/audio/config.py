"""The audio path's constants (spec 8.1), as one frozen record a scenario may override."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AudioConfig:
    """Effective values at d34d8dc1 (the ``config/calls.py`` import succeeds, spec 8.1)."""

    simple_mode: bool = True
    rms_silence_threshold: int = 25
    min_speech_rms: int = 35
    min_consecutive_voice_frames: int | None = None  # None: the spec's expression (required_voice_frames)
    vad_baseline_timeout: float = 80.0
    vad_adaptive_cap: float = 120.0
    vad_adaptive_offset: float = 55.0
    echo_gate_min_rms: float = 275.0
    echo_gate_min_frames: int = 6
    post_ai_cooldown_ms: int = 800
    forwarding_window_ms: int = 300
    queue_maxsize: int = 1000
    speech_timeout_sec: float = 30.0
    keepalive_interval_sec: float = 10.0
    max_realtime_seconds_per_call: float = 600
    max_audio_frames_per_call: int = 42000
    calibration_noise_frames: int = 40
    calibration_max_attempts: int = 200
    calibration_min_noise_frames: int = 10
    noise_floor_init: float = 50.0
    echo_gate_noise_multiplier: float = 3.0

    @property
    def required_voice_frames(self) -> int:
        """``max(0, NOISE_GATE_MIN_FRAMES) if not SIMPLE_MODE else 12`` (spec §8.1): 0 outside simple mode (§13.2.3)."""
        if self.min_consecutive_voice_frames is not None:
            return self.min_consecutive_voice_frames
        return 12 if self.simple_mode else 0

    # Times in the model are integer microseconds; these convert the spec's units once.
    @property
    def speech_timeout_us(self) -> int:
        return round(self.speech_timeout_sec * 1_000_000)

    @property
    def keepalive_interval_us(self) -> int:
        return round(self.keepalive_interval_sec * 1_000_000)

    @property
    def max_realtime_us(self) -> int:
        return round(self.max_realtime_seconds_per_call * 1_000_000)

    @property
    def cooldown_us(self) -> int:
        return self.post_ai_cooldown_ms * 1_000

    @property
    def forwarding_window_us(self) -> int:
        return self.forwarding_window_ms * 1_000
