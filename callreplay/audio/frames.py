"""``FrameBatch``: the media frames of one ``media`` step of one stream, stored by column.

Columns rather than one object per frame: a ten-minute call is 30,000 frames, and the gate model
works on whole numpy arrays of them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .mulaw import FRAME_BYTES, frame_rms, payload_rms


def _int_column(values: Sequence[int] | np.ndarray, name: str, n: int) -> np.ndarray:
    column = np.asarray(values, dtype=np.int64)
    if column.shape != (n,):
        raise ValueError(f"{name} must have {n} entries, got shape {column.shape}")
    return column


@dataclass(frozen=True, slots=True, eq=False)
class FrameBatch:
    """Frames in delivery (arrival) order.

    ``payload`` holds regular 160-byte frames; when any payload has another length the batch
    keeps every payload in ``irregular`` instead and ``payload`` is None. ``b64`` keeps the
    recorded base64 strings so a replay forwards exactly what Twilio sent.
    """

    payload: np.ndarray | None
    arrival_us: np.ndarray
    seq: np.ndarray
    chunk: np.ndarray
    timestamp_ms: np.ndarray
    irregular: tuple[bytes, ...] | None = None
    b64: tuple[str, ...] | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if (self.payload is None) == (self.irregular is None):
            raise ValueError("a FrameBatch needs exactly one of payload and irregular")
        if self.payload is not None:
            n = len(self.payload)
        else:
            assert self.irregular is not None  # exactly one of the two, checked just above
            n = len(self.irregular)
        if self.payload is not None and (self.payload.ndim != 2 or self.payload.shape[1] != FRAME_BYTES
                                         or self.payload.dtype != np.uint8):
            raise ValueError(f"payload must be uint8 (N, {FRAME_BYTES}), got {self.payload.dtype} "
                             f"{self.payload.shape}")
        for name in ("arrival_us", "seq", "chunk", "timestamp_ms"):
            object.__setattr__(self, name, _int_column(getattr(self, name), name, n))
        if self.b64 is not None and len(self.b64) != n:
            raise ValueError(f"b64 must have {n} entries, got {len(self.b64)}")

    @classmethod
    def build(cls, payloads: np.ndarray | Sequence[bytes], arrival_us, seq, chunk, timestamp_ms,
              b64: Sequence[str] | None = None) -> FrameBatch:
        """Make a batch from a (N, 160) array or a list of raw payloads of any lengths."""
        b64 = tuple(b64) if b64 is not None else None
        if isinstance(payloads, np.ndarray):
            return cls(np.ascontiguousarray(payloads, dtype=np.uint8), arrival_us, seq, chunk,
                       timestamp_ms, b64=b64)
        raw = tuple(bytes(p) for p in payloads)
        if all(len(p) == FRAME_BYTES for p in raw):
            array = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), FRAME_BYTES)
            return cls(array.copy(), arrival_us, seq, chunk, timestamp_ms, b64=b64)
        return cls(None, arrival_us, seq, chunk, timestamp_ms, irregular=raw, b64=b64)

    @classmethod
    def paced(cls, payloads: np.ndarray | Sequence[bytes], start_us: int = 0, frame_us: int = 20_000,
              first_seq: int = 1, first_chunk: int = 1, first_timestamp_ms: int = 0,
              b64: Sequence[str] | None = None) -> FrameBatch:
        """Frames at Twilio's steady cadence: one every ``frame_us``, counters counting up by one."""
        n = len(payloads)
        step = np.arange(n, dtype=np.int64)
        return cls.build(payloads, start_us + step * frame_us, first_seq + step, first_chunk + step,
                         first_timestamp_ms + step * (frame_us // 1_000), b64=b64)

    def __len__(self) -> int:
        return len(self.arrival_us)

    def _irregular_payloads(self) -> tuple[bytes, ...]:
        """``irregular``, for a batch without a ``payload`` array (``__post_init__`` ensures it is then set)."""
        assert self.irregular is not None
        return self.irregular

    def payload_bytes(self, i: int) -> bytes:
        if self.payload is not None:
            return self.payload[i].tobytes()
        return self._irregular_payloads()[i]

    def b64_at(self, i: int) -> str:
        """The base64 string Twilio sent (recorded), or the encoding of the synthetic payload."""
        if self.b64 is not None:
            return self.b64[i]
        return base64.b64encode(self.payload_bytes(i)).decode("ascii")

    def rms(self) -> np.ndarray:
        """``audioop.rms`` of every frame, computed once per batch (the engine may re-run slices)."""
        cached = self._cache.get("rms")
        if cached is None:
            if self.payload is not None:
                cached = frame_rms(self.payload)
            else:
                cached = payload_rms(self._irregular_payloads())
            cached.flags.writeable = False
            self._cache["rms"] = cached
        return cached

    def with_rms(self, rms: np.ndarray) -> FrameBatch:
        """Record RMS values the caller already has (a window of a repeated pattern), so ``rms()`` skips its pass."""
        column = _int_column(rms, "rms", len(self))
        column.flags.writeable = False
        self._cache["rms"] = column
        return self

    def take(self, indices: Sequence[int] | np.ndarray) -> FrameBatch:
        """A new batch of the given frames, in the given order."""
        idx = np.asarray(indices, dtype=np.int64)
        return FrameBatch(
            payload=None if self.payload is None else self.payload[idx],
            arrival_us=self.arrival_us[idx], seq=self.seq[idx], chunk=self.chunk[idx],
            timestamp_ms=self.timestamp_ms[idx],
            irregular=None if self.irregular is None else tuple(self.irregular[i] for i in idx),
            b64=None if self.b64 is None else tuple(self.b64[i] for i in idx),
        )

    def with_arrival(self, arrival_us: np.ndarray) -> FrameBatch:
        return FrameBatch(self.payload, arrival_us, self.seq, self.chunk, self.timestamp_ms,
                          irregular=self.irregular, b64=self.b64)

    def slice(self, start: int, stop: int) -> FrameBatch:
        return self.take(np.arange(start, min(stop, len(self)), dtype=np.int64)) if start < stop \
            else self.take(np.zeros(0, dtype=np.int64))

    def sha256_of(self, indices: Sequence[int] | np.ndarray) -> str:
        """Hex digest of the raw payload bytes of these frames concatenated in order."""
        digest = hashlib.sha256()
        idx = np.asarray(indices, dtype=np.int64)
        if self.payload is not None:
            digest.update(self.payload[idx].tobytes())
        else:
            irregular = self._irregular_payloads()
            for i in idx:
                digest.update(irregular[i])
        return digest.hexdigest()

    def to_wire_messages(self, stream_sid: str, track: str = "inbound") -> Iterator[dict]:
        """Twilio ``media`` messages as Twilio sends them: numeric fields are JSON strings."""
        for i in range(len(self)):
            yield {
                "event": "media",
                "sequenceNumber": str(int(self.seq[i])),
                "streamSid": stream_sid,
                "media": {
                    "track": track,
                    "chunk": str(int(self.chunk[i])),
                    "timestamp": str(int(self.timestamp_ms[i])),
                    "payload": self.b64_at(i),
                },
            }
