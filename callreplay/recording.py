"""Recorded media read lazily: a ``recording:`` source streams a JSON-Lines file in chunks.

Each line is a Twilio ``media`` message as sent on the wire (``{"event": "media", ...}``) or a
capture record of ``callreplay record`` (``{"type": "ws.in", "text": "<message>"}``); other lines
(start, mark, stop, webhooks) are skipped. Frames are placed at the step's ``at`` plus their
recorded ``media.timestamp`` (so recorded pauses are kept) and keep their recorded sequence
numbers relative to the first, so recorded gaps and repeats still show as protocol faults. Only
one chunk is in memory at a time, so a two-hour recording replays in bounded memory.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .audio.frames import FrameBatch
from .errors import ScenarioError
from .safe_open import open_side_file
from .scenario.limits import DEFAULT_LIMITS

CHUNK_FRAMES = 4096
MAX_LINE_BYTES = 1 << 20


def _media_message(line: bytes) -> dict | None:
    obj = json.loads(line)
    if not isinstance(obj, dict):
        return None
    if obj.get("type") == "ws.in" and isinstance(obj.get("text"), str):
        obj = json.loads(obj["text"])
    return obj if isinstance(obj, dict) and obj.get("event") == "media" else None


def recording_chunks(path: Path, at_us: int, *, where: str, chunk: int = CHUNK_FRAMES, folder: Path | None = None,
                     max_bytes: int = DEFAULT_LIMITS.side_file_bytes) -> Iterator[FrameBatch]:
    """FrameBatches of at most ``chunk`` frames, in file order, timed from the recorded timestamps.

    The file is opened safely inside ``folder`` (the scenario's; default the file's own) and read a
    bounded line at a time."""
    first_ts = first_seq = None
    payloads: list[bytes] = []
    b64: list[str] = []
    stamps: list[int] = []
    seqs: list[int] = []
    chunks: list[int] = []

    def flush() -> FrameBatch:
        arrival = at_us + (np.array(stamps, dtype=np.int64) - first_ts) * 1000
        batch = FrameBatch.build(payloads, arrival, np.array(seqs) - first_seq + 1, np.array(chunks),
                                 np.array(stamps, dtype=np.int64) - first_ts, b64=b64)
        payloads.clear(), b64.clear(), stamps.clear(), seqs.clear(), chunks.clear()
        return batch

    try:
        fh = open_side_file(path, folder if folder is not None else Path(path).parent, max_bytes=max_bytes)
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"cannot open {Path(path).name}: {exc}", path=where) from None
    with fh:
        number = 0
        while line := fh.readline(MAX_LINE_BYTES + 1):   # bounded: a file with no newline is not read whole
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise ScenarioError(f"line {number} of {path.name} is longer than {MAX_LINE_BYTES} bytes", path=where)
            if not line.strip():
                continue
            try:
                msg = _media_message(line)
                if msg is None:
                    continue
                media = msg["media"]
                payload = base64.b64decode(media["payload"], validate=True)
                stamp, seq = int(media.get("timestamp", 0)), int(msg.get("sequenceNumber", 0))
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                raise ScenarioError(f"line {number} of {path.name} is not a readable media message ({exc})",
                                    path=where, expected="one Twilio media message (JSON) per line") from None
            if first_ts is None:
                first_ts, first_seq = stamp, seq
            payloads.append(payload)
            b64.append(media["payload"])
            stamps.append(stamp)
            seqs.append(seq)
            chunks.append(int(media.get("chunk", 0) or 0))
            if len(payloads) >= chunk:
                yield flush()
    if payloads:
        yield flush()
