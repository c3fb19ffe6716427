"""The caller's line hearing the bot: what Twilio played on a stream, mixed back into the caller's frames.

A speakerphone or a poor handset returns the bot's voice to the caller's microphone some milliseconds later
and quieter. Live mode plays that: the media socket hands this line every payload the server sent (at the
moment Twilio plays it) and every ``clear``; a media step with ``echo:`` then has each of its frames mixed
with the audio played ``delay`` before the frame's capture time, scaled by the attenuation. Only the frames of
such a step pay for it (decode, add, encode); a stream without echo never builds a line.
"""

from __future__ import annotations

import base64

import numpy as np

from ..audio import mulaw
from ..audio.frames import FrameBatch
from ..scenario.model import MAX_ECHO_DELAY_US, EchoSpec

US_PER_SAMPLE = 125
FRAME_SAMPLES = 160
KEEP_SAMPLES = (MAX_ECHO_DELAY_US + 1_000_000) // US_PER_SAMPLE  # the longest delay, and a second of slack


class EchoLine:
    """A ring of the PCM Twilio played on one stream, indexed by playout time (125 µs a sample)."""

    def __init__(self, origin_us: int) -> None:
        self.origin_us = origin_us
        self.ring = np.zeros(KEEP_SAMPLES, dtype=np.int16)
        self.written_until = 0  # absolute sample index one past the last sample written

    def _index(self, t_us: int) -> int:
        return (t_us - self.origin_us) // US_PER_SAMPLE

    def played(self, start_us: int, audio: bytes) -> None:
        """Twilio plays ``audio`` (mu-law) from ``start_us``."""
        first = self._index(start_us)
        if first < 0:
            return
        pcm = mulaw.decode(audio)
        if first > self.written_until:  # silence since the last payload: no stale ring content may echo
            self._write(self.written_until, np.zeros(min(first - self.written_until, KEEP_SAMPLES), np.int16))
        self._write(first, pcm[-KEEP_SAMPLES:])
        self.written_until = max(self.written_until, first + len(pcm))

    def cleared(self, now_us: int) -> None:
        """A ``clear``: what was queued after ``now_us`` never plays."""
        first = max(self._index(now_us), 0)
        if first < self.written_until:
            self._write(first, np.zeros(min(self.written_until - first, KEEP_SAMPLES), np.int16))
            self.written_until = first

    def _write(self, first: int, samples: np.ndarray) -> None:
        at = first % KEEP_SAMPLES
        head = min(len(samples), KEEP_SAMPLES - at)
        self.ring[at:at + head] = samples[:head]
        self.ring[:len(samples) - head] = samples[head:]

    def _heard(self, t_us: int) -> np.ndarray | None:
        """The 20 ms played at ``t_us`` (None when nothing was): absolute samples outside the ring are silent."""
        first = self._index(t_us)
        last = first + FRAME_SAMPLES
        if last <= 0 or first >= self.written_until or first < self.written_until - KEEP_SAMPLES:
            return None
        index = np.arange(max(first, 0), min(last, self.written_until))
        out = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        out[index - first] = self.ring[index % KEEP_SAMPLES]
        return out if out.any() else None

    def mix(self, batch: FrameBatch, i: int, echo: EchoSpec) -> str:
        """Frame ``i`` of ``batch`` as the caller's microphone captured it: the caller plus the bot's echo."""
        heard = self._heard(int(batch.arrival_us[i]) - echo.delay_us)
        if heard is None:
            return batch.b64_at(i)  # nothing played then: the frame goes out as it is (and stays recognisable)
        caller = mulaw.decode(batch.payload_bytes(i)).astype(np.int32)
        mixed = caller[:FRAME_SAMPLES] + np.round(heard[:len(caller)] * echo.gain).astype(np.int32)
        return base64.b64encode(mulaw.encode(np.clip(mixed, -32768, 32767).astype(np.int16)).tobytes()).decode()
