"""Media steps become frame feeds: synthesised or recorded audio, numbered like Twilio numbers it.

A ``media`` step expands (sources, ``repeat``, ``for``) into a :class:`FrameBatch` paced at 20 ms
from the step's ``at``; faults are applied with a seed; the batch is then delivered to the handler
in slices, interleaved with everything else that happens meanwhile. Sequence numbers are given
at delivery time from the stream's one counter, so a mark echo between two frames takes its
number just as it would on the wire; a fault's deviation (a duplicate, a swap, a loss) rides on
top as an offset from the nominal numbering.

A long fault-free synthetic step (a 48-hour call is 8.6 M frames, 1.4 GB of payload) is never built
whole: its feed holds a window of the repeated pattern and slides it forward as frames are delivered,
so memory stays flat in the call's length. A window always holds more frames than one slice can take
(the handler's ``MAX_SLICE_FRAMES``), so slices, and therefore traces, are the same as with the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .audio import sources
from .audio.faults import apply_faults
from .audio.frames import FrameBatch
from .audio.mulaw import frame_rms
from .errors import ScenarioError
from .pipeline.constants import FRAME_BYTES, FRAME_US
from .pipeline.media_audio import MAX_SLICE_FRAMES
from .scenario.model import EchoSpec, MediaSpec, Scenario, SourceSpec, WsStep

WINDOW_FRAMES = 30_000                 # 10 minutes of audio, 4.8 MB of payload, per streamed feed
STREAM_ABOVE_FRAMES = 2 * WINDOW_FRAMES  # shorter steps are built whole, as they always were
MIN_AHEAD_FRAMES = MAX_SLICE_FRAMES + 1  # a window slides before fewer frames than a slice are left in it


class PacedPattern(NamedTuple):
    """A fault-free synthetic media step: ``pattern`` repeated to ``total`` frames, paced at 20 ms."""

    pattern: np.ndarray   # (L, 160) frames, L >= 1
    total: int
    at_us: int
    start_us: int        # the stream's start: media timestamps count from it
    pattern_rms: np.ndarray  # the pattern's per-frame RMS, computed once rather than once per window

    def window(self, first: int, size: int) -> FrameBatch:
        """Frames ``[first, first + size)`` of the step with their local numbers, exactly as the whole batch has them."""
        index = np.arange(first, min(first + size, self.total), dtype=np.int64)
        arrival = self.at_us + index * FRAME_US
        rows = index % len(self.pattern)
        return FrameBatch.build(self.pattern[rows], arrival, index + 1, index + 1,
                                (arrival - self.start_us) // 1000).with_rms(self.pattern_rms[rows])

    @property
    def last_us(self) -> int:
        return self.at_us + (self.total - 1) * FRAME_US


def _source_seed(scenario: Scenario, step: WsStep, k: int) -> int:
    """The seed of a step's ``k``-th source: fixed by the scenario, so a replay is repeatable."""
    return scenario.seed * 7919 + step.index * 31 + k


def _source_frames(spec: SourceSpec, seed: int, scenario: Scenario
                   ) -> tuple[np.ndarray | list[bytes], tuple[str, ...] | None]:
    if spec.kind == "silence":
        return sources.silence(spec.duration_us), None
    if spec.kind == "tone":
        return sources.tone(spec.hz, spec.rms, spec.duration_us), None
    if spec.kind == "speech":
        return sources.speech(spec.duration_us, spec.rms, spec.seed if spec.seed is not None else seed), None
    if spec.kind in NOISE_KINDS:
        make = sources.noise if spec.kind == "noise" else sources.music
        return make(spec.duration_us, spec.rms, spec.zcr, spec.seed if spec.seed is not None else seed), None
    if spec.kind == "file":  # opened safely inside the scenario's folder, under its size limit
        assert spec.path is not None  # the loader gives every file source its path
        return sources.wav_file(spec.path, folder=scenario.side_files_folder,
                                max_bytes=scenario.limits.side_file_bytes), None
    decoded = sources.payloads(spec.payloads)
    if decoded.frames is not None:
        return decoded.frames, decoded.b64
    return list(decoded.raw), decoded.b64


NOISE_KINDS = ("noise", "music")  # caller audio that is sound but not speech
MAX_NOISE_SPANS = 200


def noise_spans(scenario: Scenario, step: WsStep, batch: FrameBatch) -> list[list[int]] | None:
    """[first_us, last_us, frames] of each run of the step's frames that came from a noise or music source, as
    delivered (faults included); None for a step without one. The ground truth ``self-interruption`` reads:
    sound on the caller's line that is not the caller speaking."""
    media = step.media
    if media is None or not len(batch) or not any(spec.kind in NOISE_KINDS for spec in media.sources):
        return None
    try:
        counts = [len(_source_frames(spec, _source_seed(scenario, step, k), scenario)[0])
                  for k, spec in enumerate(media.sources)]
    except (ValueError, OSError):
        return None  # expand_media reports it, located
    pattern = sum(counts)
    if not pattern:
        return None
    kinds = np.repeat([spec.kind in NOISE_KINDS for spec in media.sources], counts)
    local = (np.asarray(batch.seq, dtype=np.int64) - 1) % pattern  # faults keep each frame's local number
    noisy = kinds[local]
    edges = np.flatnonzero(np.diff(np.concatenate(([0], noisy.astype(np.int8), [0]))))
    arrival = batch.arrival_us
    return [[int(arrival[a:b].min()), int(arrival[a:b].max()), int(b - a)]
            for a, b in zip(edges[::2][:MAX_NOISE_SPANS], edges[1::2][:MAX_NOISE_SPANS], strict=True)]


def media_feed_source(scenario: Scenario, step: WsStep, start_us: int) -> tuple[FrameBatch, PacedPattern | None]:
    """The batch a media step's feed starts with, and the pattern it streams from when the step is long.

    A long fault-free synthetic step starts with its first window; any other step with all of its frames.
    """
    pattern = _paced_pattern(scenario, step, start_us)
    if pattern is not None:
        return pattern.window(0, WINDOW_FRAMES), pattern
    return expand_media(scenario, step, start_us), None


def _planned_frames(media: MediaSpec) -> int | None:
    """The step's frame count when it is known without reading a file, else None."""
    if media.for_us is not None:
        return sources.frame_count(media.for_us)
    if any(spec.kind == "file" for spec in media.sources):
        return None
    return media.repeat * sum(sources.frame_count(spec.duration_us) for spec in media.sources)


def _paced_pattern(scenario: Scenario, step: WsStep, start_us: int) -> PacedPattern | None:
    """The repeated pattern of a long fault-free synthetic step; None: the step is built whole by expand_media."""
    media = step.media
    if media is None or step.faults or any(spec.kind in ("payloads", "recording") for spec in media.sources):
        return None
    planned = _planned_frames(media)
    if planned is None or planned < STREAM_ABOVE_FRAMES:
        return None  # built whole by expand_media, sources read once
    try:
        parts = [_source_frames(spec, _source_seed(scenario, step, k), scenario)[0]
                 for k, spec in enumerate(media.sources)]
    except (ValueError, OSError):
        return None  # expand_media reports it, located
    if not parts or not all(isinstance(p, np.ndarray) for p in parts):
        return None
    one = np.concatenate(parts)
    if not len(one):
        return None
    total = planned if media.for_us is not None else len(one) * media.repeat
    if not total or total < STREAM_ABOVE_FRAMES:
        return None
    return PacedPattern(one, total, step.at_us, start_us, frame_rms(one))


def expand_media(scenario: Scenario, step: WsStep, start_us: int) -> FrameBatch:
    """The frames of one media step, paced from its ``at``, with local sequence numbers 1..N."""
    media = step.media
    assert media is not None  # the loader gives every media step its sources
    parts: list = []
    b64: list[str] | None = []
    try:
        for k, spec in enumerate(media.sources):
            frames, encoded = _source_frames(spec, _source_seed(scenario, step, k), scenario)
            parts.append(frames)
            if b64 is not None and encoded is not None:
                b64.extend(encoded)
            else:
                b64 = None
    except (ValueError, OSError) as exc:
        raise ScenarioError(str(exc), file=str(scenario.file), line=step.line, path=f"{step.path}.ws.media") from None
    regular = all(isinstance(p, np.ndarray) for p in parts)
    if regular:
        one = np.concatenate(parts) if parts else np.zeros((0, FRAME_BYTES), np.uint8)
        pattern_len = len(one)
        if media.for_us is not None and pattern_len:
            total = sources.frame_count(media.for_us)
            one = np.resize(one, (total, FRAME_BYTES)) if total else one[:0]
        elif media.repeat > 1:
            one = np.tile(one, (media.repeat, 1))
        payload: np.ndarray | list[bytes] = one
        n = len(one)
    else:
        flat = [bytes(p) for part in parts for p in (part if isinstance(part, list) else list(part))]
        payload = flat * media.repeat
        n = len(payload)
    if b64 is not None and len(b64) != n:
        b64 = (b64 * (n // max(len(b64), 1) + 1))[:n] if b64 else None
    steps = np.arange(n, dtype=np.int64)
    arrival = step.at_us + steps * FRAME_US
    timestamp = (arrival - start_us) // 1000
    batch = FrameBatch.build(payload, arrival, steps + 1, steps + 1, timestamp, b64=b64)
    if step.faults:
        faults = {k: v for k, v in step.faults.items() if k != "seed"}
        seed = step.faults.get("seed", scenario.seed * 104729 + step.index)
        try:
            batch = apply_faults(batch, faults, seed)
        except ValueError as exc:
            raise ScenarioError(str(exc), file=str(scenario.file), line=step.line, path=f"{step.path}.faults") \
                from None
    return batch


@dataclass
class Feed:
    """A media step being delivered: ``pos`` is the next frame, ``offset`` maps local to wire numbers."""

    call: str
    batch: FrameBatch
    local_seq: np.ndarray
    local_chunk: np.ndarray
    offset: int
    chunk_offset: int
    step_path: str
    pos: int = 0
    more: Iterator[FrameBatch] | None = None  # further chunks of a streamed recording
    consecutive: bool = False  # local numbers go up by one (no fault): a slice needs one check
    paced: PacedPattern | None = None  # a long synthetic step: ``batch`` is a window of it
    base: int = 0                      # the step's frame index of ``batch[0]``
    echo: EchoSpec | None = None       # live mode: the bot's audio is mixed into these frames as they are sent

    def __post_init__(self) -> None:
        self._classify()

    def _classify(self) -> None:
        seq = self.local_seq
        self.consecutive = bool(len(seq) and (len(seq) == 1 or bool((seq[1:] - seq[:-1] == 1).all())))

    def refill(self) -> None:
        """Slide a synthetic window forward, or load the next chunk of a streamed recording once this one is delivered."""
        paced = self.paced
        if paced is not None and len(self.batch) - self.pos < MIN_AHEAD_FRAMES \
                and self.base + len(self.batch) < paced.total:
            self.base += self.pos
            self._load(paced.window(self.base, WINDOW_FRAMES))
        while self.more is not None and self.pos >= len(self.batch):
            nxt = next(self.more, None)
            if nxt is None:
                self.more = None
                return
            self._load(nxt)

    def _load(self, batch: FrameBatch) -> None:
        """Deliver ``batch`` next, from its first frame; its numbers as built are the local ones."""
        self.batch, self.pos = batch, 0
        self.local_seq, self.local_chunk = batch.seq.copy(), batch.chunk.copy()
        self._classify()

    @property
    def done(self) -> bool:
        """No frame left: this chunk is delivered and no further window or chunk of a recording is pending."""
        return self.pos >= len(self.batch) and self.more is None and (
            self.paced is None or self.base + len(self.batch) >= self.paced.total)

    def end_us(self) -> int:
        """When the last frame of this feed arrives (for a recording: of the chunk in memory)."""
        return self.paced.last_us if self.paced is not None else int(self.batch.arrival_us[-1])

    def next_us(self) -> int:
        return int(self.batch.arrival_us[self.pos])


def start_feed(call: str, batch: FrameBatch, stream, step_path: str,
               more: Iterator[FrameBatch] | None = None, paced: PacedPattern | None = None) -> Feed:
    return Feed(call, batch, batch.seq.copy(), batch.chunk.copy(), stream.seq, stream.chunk, step_path, more=more,
                paced=paced)


def number_slice(feed: Feed, stop: int, stream) -> np.ndarray:
    """Give frames ``[pos, stop)`` their wire numbers; advance the stream's counters past them."""
    start = feed.pos
    if stop - start == 1:
        # one frame (what live mode sends at each 20 ms tick): plain integers, no array arithmetic
        seq = int(feed.local_seq[start]) + feed.offset
        chunk = int(feed.local_chunk[start]) + feed.chunk_offset
        feed.batch.seq[start] = seq
        feed.batch.chunk[start] = chunk
        stream.seq = max(stream.seq, seq)
        stream.chunk = max(stream.chunk, chunk)
        return np.array((seq,), dtype=np.int64)
    if feed.consecutive:
        first = int(feed.local_seq[start]) + feed.offset
        wire = np.arange(first, first + stop - start, dtype=np.int64)
    else:
        wire = feed.local_seq[start:stop] + feed.offset
    feed.batch.seq[start:stop] = wire
    feed.batch.chunk[start:stop] = feed.local_chunk[start:stop] + feed.chunk_offset
    if stop > start:
        stream.seq = max(stream.seq, int(wire.max()))
        stream.chunk = max(stream.chunk, int(feed.batch.chunk[start:stop].max()))
    return wire


def protocol_problems(previous_seq: int, wire: np.ndarray, batch: FrameBatch, start: int, stop: int,
                      consecutive: bool = False) -> list[dict]:
    """Sequence numbers that go backwards or skip, and payloads that are not 160-byte frames."""
    problems = []
    if len(wire) == 1 or (len(wire) and consecutive):
        # one frame (live mode's tick), or numbers that go up by one: only the first can deviate
        first = int(wire[0])
        if first != previous_seq + 1:
            name = "seq-backwards" if first <= previous_seq else "seq-skip"
            problems.append({"problem": name, "count": 1, "first_seq": first, "previous_seq": previous_seq,
                             "at_us": int(batch.arrival_us[start])})
    elif len(wire):
        prev = np.concatenate(([previous_seq], wire[:-1]))
        diff = wire - prev
        for name, mask in (("seq-backwards", diff <= 0), ("seq-skip", diff > 1)):
            count = int(mask.sum())
            if count:
                k = int(np.flatnonzero(mask)[0])
                problems.append({"problem": name, "count": count, "first_seq": int(wire[k]),
                                 "previous_seq": int(prev[k]), "at_us": int(batch.arrival_us[start + k])})
    if batch.irregular is not None:
        lengths = [len(batch.irregular[i]) for i in range(start, stop)]
        bad = [i for i, n in enumerate(lengths) if n != FRAME_BYTES]
        if bad:
            problems.append({"problem": "payload-size", "count": len(bad), "first_seq": int(wire[bad[0]]),
                             "length": lengths[bad[0]], "at_us": int(batch.arrival_us[start + bad[0]])})
    return problems
