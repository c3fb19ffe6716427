"""Which caller audio that reached the model was the bot's own voice: the evidence both echo detectors read.

Two kinds of the bot's own audio can reach the model as if the caller said it:

* **outbound-track frames**: a Media Streams ``media`` message whose ``track`` is ``outbound`` (a
  ``<Start><Stream track="both_tracks">`` fork carries them) is the bot's audio by definition. It reached the
  model when the realtime session appended it: in-process, an ``audio_append`` whose sequence-number run holds
  the frame; on the wire, a received frame whose sign signature is the frame's, exactly.
* **echo on the inbound track**: a run of received frames (``BLOCK_FRAMES``, 200 ms) whose samples agree in sign
  with the model audio Twilio played ``d`` earlier, ``0 <= d <= ECHO_WINDOW_US`` (plus the forwarding slack), at
  one lag, for a correlation of at least ``MATCH`` (+1 every sample agrees; unrelated audio stays near 0), in
  at least two blocks at one delay: two voices of close pitch can agree over a whole block at some lag, but an
  echo path has one delay and a chance match lands at a random lag. Blocks hold only frames that carry a
  waveform, so an echo starting inside one is not diluted by the silence before it. Read
  from the sign signatures of ``ws.out`` media (what Twilio played, on its playout timeline, cut at each
  ``clear``) and of ``realtime.audio_in`` (what the model received, stamped when it arrived). The lag is
  searched, not assumed, so live-mode jitter moves only the measured delay. Near-constant frames (silence,
  a padded tail) carry no waveform and are never matched.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from dataclasses import dataclass, field

import numpy as np

from ..audio.signature import signs
from .view import TraceView

US_PER_SAMPLE = 125       # 8 kHz mu-law
FRAME_SAMPLES = 160
FRAME_US = 20_000
ECHO_WINDOW_US = 1_000_000  # echo delays a phone line and a speakerphone produce stay well under a second
SLACK_US = 250_000          # live mode: forwarding latency and scheduling jitter on top of the echo's delay
# sign correlation of a block at its best lag: an echo alone scores 0.85-1 (0.78 where a reply starts); two
# synthetic voices of close pitch reach 0.82 in a block, at a lag no second block shares
MATCH = 0.8
BLOCK_FRAMES = 10           # 200 ms compared at one lag: two voices of similar pitch agree for 20 ms, not for 200
MIN_BLOCK_FRAMES = 5        # a shorter run (the tail of a reply) is not compared: 100 ms is the least that tells
BLOCK_BREAK_US = 200_000    # frames that arrive this far apart are not one run of the caller's line
BALANCE = 0.15              # a frame with fewer than 15% of its samples of either sign is (near) silence
MAX_CHECKED_FRAMES = 3_000  # per call: a minute of candidate frames bounds the work on a long trace
DELAY_AGREE_US = 40_000     # one echo path has one delay; blocks of it agree this closely even under live jitter
MIN_AGREEING_BLOCKS = 2     # a voice of similar pitch can match one block at some lag, not two at the same lag


@dataclass
class EchoFrame:
    """One received frame that was the model's audio: when it arrived, what it matched, how well."""

    t_us: int
    seq: int              # the realtime.audio_in event
    played_us: int        # when Twilio played the audio it matched
    score: float

    @property
    def delay_us(self) -> int:
        return self.t_us - FRAME_US - self.played_us


@dataclass
class CallEcho:
    echoes: list[EchoFrame] = field(default_factory=list)
    outbound: list[tuple[int, int, int]] = field(default_factory=list)  # (ws.in seq, audio seq, t_us) forwarded
    outbound_sent: int = 0
    checked: int = 0


_MEMO: weakref.WeakKeyDictionary[TraceView, dict[str, CallEcho]] = weakref.WeakKeyDictionary()


def echo_evidence(view: TraceView) -> dict[str, CallEcho]:
    """Per call, the bot's own audio that reached the model (computed once per view)."""
    known = _MEMO.get(view)
    if known is None:
        known = _MEMO[view] = _compute(view)
    return known


def _compute(view: TraceView) -> dict[str, CallEcho]:
    out: dict[str, CallEcho] = {}
    received = _received(view)
    for call, (events, frames) in received.items():
        timeline = _played(view, call)
        if timeline is not None:
            entry = out.setdefault(call, CallEcho())
            entry.echoes, entry.checked = _echo_frames(timeline, events, frames)
    _outbound_track(view, received, out)
    return out


def _decode(payload: object) -> bytes | None:
    if not isinstance(payload, str):
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def _received(view: TraceView) -> dict[str, tuple[list[tuple[int, int]], list[np.ndarray]]]:
    """Per call, each received 20 ms frame's (arrival, event seq) and its signs, from signed audio_in events."""
    out: dict[str, tuple[list[tuple[int, int]], list[np.ndarray]]] = {}
    for e in view.events("realtime.audio_in"):
        n = int(e.data.get("bytes") or 0) // FRAME_SAMPLES
        if not e.call or not n or not e.data.get("sig"):
            continue
        bits = signs(e.data["sig"], n * FRAME_SAMPLES)
        if bits is None:
            continue
        events, frames = out.setdefault(e.call, ([], []))
        for k in range(n):
            events.append((e.t_us, e.seq))
            frames.append(bits[k * FRAME_SAMPLES:(k + 1) * FRAME_SAMPLES])
    return out


@dataclass
class _Timeline:
    t0_us: int
    samples: np.ndarray  # int8 signs of what Twilio played, 0 where it played nothing

    def window(self, first_us: int, last_us: int) -> tuple[int, np.ndarray]:
        a = max((first_us - self.t0_us) // US_PER_SAMPLE, 0)
        b = min((last_us - self.t0_us) // US_PER_SAMPLE, len(self.samples))
        return a, self.samples[a:b] if b > a else self.samples[:0]


def _played(view: TraceView, call: str) -> _Timeline | None:
    """The signs of the model audio Twilio played on this call, on its playout timeline; cut at each clear."""
    pieces: list[tuple[int, np.ndarray | None]] = []
    for e in view.events("ws.out"):
        if e.call != call:
            continue
        if e.data.get("event") == "clear":
            pieces.append((e.t_us, None))
        elif e.data.get("event") == "media" and e.data.get("sig") and e.data.get("plays_from_us") is not None:
            bits = signs(e.data["sig"], int(e.data.get("bytes") or 0))
            if bits is not None:
                pieces.append((int(e.data["plays_from_us"]), bits))
    audio = [(t, b) for t, b in pieces if b is not None]
    if not audio:
        return None
    t0 = min(t for t, _ in audio)
    end = max(t + len(b) * US_PER_SAMPLE for t, b in audio)
    samples = np.zeros((end - t0) // US_PER_SAMPLE + 1, dtype=np.int8)
    for t, bits in pieces:
        at = max((t - t0) // US_PER_SAMPLE, 0)
        if bits is None:
            samples[at:] = 0  # a clear: what was queued after this moment never played
        else:
            samples[at:at + len(bits)] = bits[:len(samples) - at]
    return _Timeline(t0, samples)


def _balanced(bits: np.ndarray) -> bool:
    positive = float(np.count_nonzero(bits > 0)) / max(len(bits), 1)
    return BALANCE <= positive <= 1 - BALANCE


def _blocks(events: list[tuple[int, int]], frames: list[np.ndarray]):
    """Runs of ``MIN_BLOCK_FRAMES`` to ``BLOCK_FRAMES`` received frames that all carry a waveform, split where
    nothing arrived for ``BLOCK_BREAK_US`` and at every near-constant frame: a block half silence and half
    echo (the echo starting or ending inside it) would score the silent half as disagreement."""
    block: list[int] = []
    for k, (t_us, _) in enumerate(events):
        waveform = _balanced(frames[k])
        if block and (not waveform or len(block) == BLOCK_FRAMES or t_us - events[block[-1]][0] > BLOCK_BREAK_US):
            if len(block) >= MIN_BLOCK_FRAMES:
                yield block
            block = []
        if waveform:
            block.append(k)
    if len(block) >= MIN_BLOCK_FRAMES:
        yield block


def _echo_frames(timeline: _Timeline, events: list[tuple[int, int]], frames: list[np.ndarray]
                 ) -> tuple[list[EchoFrame], int]:
    matches: list[tuple[int, list[EchoFrame]]] = []  # (the block's delay, its frames), in arrival order
    checked = 0
    for block in _blocks(events, frames):
        if checked >= MAX_CHECKED_FRAMES:
            break
        bits = np.concatenate([frames[k] for k in block])  # balanced: every frame of a block is
        first_us, last_us = events[block[0]][0], events[block[-1]][0]
        span = len(block) * FRAME_US
        first, window = timeline.window(first_us - span - SLACK_US - ECHO_WINDOW_US, last_us + FRAME_US)
        if len(window) < len(bits) or not window.any():
            continue
        checked += len(block)
        lag, score = _best_lag(window, bits)
        if score >= MATCH and _balanced(window[lag:lag + len(bits)]):
            played = timeline.t0_us + (first + lag) * US_PER_SAMPLE
            matched = [EchoFrame(events[k][0], events[k][1], played + i * FRAME_US, round(score, 3))
                       for i, k in enumerate(block)]
            matches.append((matched[0].delay_us, matched))
    return _one_delay(matches), checked


def _one_delay(matches: list[tuple[int, list[EchoFrame]]]) -> list[EchoFrame]:
    """The frames of the blocks that agree on one delay with the most others, if at least
    ``MIN_AGREEING_BLOCKS`` do: an echo repeats at its path's delay, a chance match lands at a random lag."""
    best: list[int] = []
    for delay, _ in matches:
        agreeing = [i for i, (other, _) in enumerate(matches) if abs(other - delay) <= DELAY_AGREE_US]
        if len(agreeing) > len(best):
            best = agreeing
    if len(best) < MIN_AGREEING_BLOCKS:
        return []
    return [frame for i in best for frame in matches[i][1]]


def _best_lag(window: np.ndarray, bits: np.ndarray) -> tuple[int, float]:
    """The offset in ``window`` where ``bits`` agrees best in sign, and the correlation there (-1..1)."""
    n, m = len(window), len(bits)
    size = 1 << int(np.ceil(np.log2(n + m)))
    spectrum = np.fft.rfft(window.astype(np.float64), size) * np.conj(np.fft.rfft(bits.astype(np.float64), size))
    correlation = np.fft.irfft(spectrum, size)[:n - m + 1] / m
    lag = int(np.argmax(correlation))
    return lag, float(correlation[lag])


def _outbound_track(view: TraceView, received: dict[str, tuple[list, list]], out: dict[str, CallEcho]) -> None:
    """Frames of the bot's own track Twilio sent, and which of them the model received."""
    appends: dict[str, list[tuple[int, int, int, int]]] = {}
    for e in view.events("realtime.audio_append"):
        if e.call and e.data.get("first_seq") is not None:
            appends.setdefault(e.call, []).append((int(e.data["first_seq"]), int(e.data["last_seq"]), e.seq, e.t_us))
    by_content = {call: {bits.tobytes(): (seq, t) for (t, seq), bits in zip(*pair, strict=True)}
                  for call, pair in received.items()}
    for e in view.events("ws.in"):
        message = e.data.get("message") or {}
        media = message.get("media") if isinstance(message, dict) and message.get("event") == "media" else None
        if not e.call or not isinstance(media, dict) or media.get("track", "inbound") == "inbound":
            continue
        entry = out.setdefault(e.call, CallEcho())
        entry.outbound_sent += 1
        hit = _forwarded_by_seq(e.data.get("seq", message.get("sequenceNumber")), appends.get(e.call, [])) or \
            _forwarded_by_content(media, by_content.get(e.call))
        if hit is not None:
            entry.outbound.append((e.seq, *hit))


def _forwarded_by_seq(number: object, appends: list[tuple[int, int, int, int]]) -> tuple[int, int] | None:
    """In-process: the append whose run of sequence numbers holds the frame's (its number on the wire)."""
    try:
        seq = int(number)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return next(((a_seq, t) for first, last, a_seq, t in appends if first <= seq <= last), None)


def _forwarded_by_content(media: dict, received: dict[bytes, tuple[int, int]] | None) -> tuple[int, int] | None:
    """On the wire: a received frame with exactly this frame's signs (a frame of waveform, not silence)."""
    payload = _decode(media.get("payload"))
    if received is None or payload is None or len(payload) != FRAME_SAMPLES:
        return None
    mine = (np.frombuffer(payload, dtype=np.uint8) >> 7).astype(np.int8) * 2 - 1
    return received.get(mine.tobytes()) if _balanced(mine) else None
