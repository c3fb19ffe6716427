"""Recorded media read lazily: a ``recording:`` source streams a JSON-Lines file in chunks.

Each line is a Twilio ``media`` message as sent on the wire (``{"event": "media", ...}``) or a
capture record of ``callreplay record`` (``{"type": "ws.in", "text": "<message>"}``); other lines
(start, mark, stop, webhooks) are skipped. Frames are placed at the step's ``at`` plus their
recorded ``media.timestamp`` (so recorded pauses are kept) and keep their recorded sequence
numbers relative to the first, so recorded gaps and repeats still show as protocol faults. Only
one chunk is in memory at a time, so a two-hour recording replays in bounded memory.

Reading is the cost of a recording (one JSON document per 20 ms frame): lines are parsed with
``orjson`` (the stdlib parser only for the rare line orjson refuses, so what is accepted does not
change), and a chunk's payloads are base64-decoded in one call when all of them are 160-byte frames.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

from .audio.frames import FrameBatch
from .errors import ScenarioError
from .safe_open import open_side_file
from .scenario.limits import DEFAULT_LIMITS

CHUNK_FRAMES = 4096
MAX_LINE_BYTES = 1 << 20


FRAME_B64_CHARS = 216          # a 160-byte frame in base64: 53 full groups, then one byte and "=="
FULL_GROUP_CHARS = 212


def _loads(text: bytes | str):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # what orjson refuses and the stdlib accepts (NaN, lone surrogates, huge ints)


def _media_message(line: bytes) -> dict | None:
    obj = _loads(line)
    if not isinstance(obj, dict):
        return None
    if obj.get("type") == "ws.in" and isinstance(obj.get("text"), str):
        obj = _loads(obj["text"])
    return obj if isinstance(obj, dict) and obj.get("event") == "media" else None


def decode_frames(b64: list[str]) -> np.ndarray | None:
    """The (N, 160) payloads of N base64 strings of 160-byte frames in one decode, or None when any
    string is not exactly that (the caller then decodes one by one and names the bad line)."""
    if not b64 or not all(len(text) == FRAME_B64_CHARS for text in b64):
        return None
    try:
        chars = np.frombuffer("".join(b64).encode("ascii"), dtype=np.uint8).reshape(len(b64), FRAME_B64_CHARS)
    except UnicodeEncodeError:
        return None
    if not (chars[:, FULL_GROUP_CHARS + 2:] == ord("=")).all():
        return None
    last = chars[:, FULL_GROUP_CHARS:].copy()
    last[:, 2:] = ord("A")  # "XY==" -> "XYAA": the same first byte, decodable without padding mid-stream
    try:
        body = base64.b64decode(chars[:, :FULL_GROUP_CHARS].tobytes(), validate=True)
        tail = base64.b64decode(last.tobytes(), validate=True)
    except (binascii.Error, ValueError):
        return None
    frames = np.empty((len(b64), 160), dtype=np.uint8)
    frames[:, :159] = np.frombuffer(body, dtype=np.uint8).reshape(len(b64), 159)
    frames[:, 159] = np.frombuffer(tail, dtype=np.uint8).reshape(len(b64), 3)[:, 0]
    return frames


def recording_chunks(path: Path, at_us: int, *, where: str, chunk: int = CHUNK_FRAMES, folder: Path | None = None,
                     max_bytes: int = DEFAULT_LIMITS.side_file_bytes) -> Iterator[FrameBatch]:
    """FrameBatches of at most ``chunk`` frames, in file order, timed from the recorded timestamps.

    The file is opened safely inside ``folder`` (the scenario's; default the file's own) and read a
    bounded line at a time."""
    first_ts: int | None = None
    first_seq: int | None = None
    b64: list[str] = []
    lines: list[int] = []
    stamps: list[int] = []
    seqs: list[int] = []
    chunks: list[int] = []

    def decoded() -> np.ndarray | list[bytes]:
        """This chunk's payloads; an undecodable one raises, named by its line."""
        frames = decode_frames(b64)
        if frames is not None:
            return frames
        return [_decode_one(text, number, path, where) for text, number in zip(b64, lines, strict=True)]

    def flush() -> FrameBatch:
        assert first_ts is not None and first_seq is not None  # set by the file's first frame, before any flush
        payloads = decoded()
        arrival = at_us + (np.array(stamps, dtype=np.int64) - first_ts) * 1000
        batch = FrameBatch.build(payloads, arrival, np.array(seqs) - first_seq + 1, np.array(chunks),
                                 np.array(stamps, dtype=np.int64) - first_ts, b64=b64)
        b64.clear()
        lines.clear()
        stamps.clear()
        seqs.clear()
        chunks.clear()
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
                text = media["payload"]
                if not isinstance(text, str) or len(text) != FRAME_B64_CHARS:
                    _decode_one(text, number, path, where)  # checked now: a bad payload is named at its line
                stamp, seq = int(media.get("timestamp", 0)), int(msg.get("sequenceNumber", 0))
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                decoded()  # an earlier line's bad payload is the first error, as when each line was decoded
                raise _unreadable(number, path, where, exc) from None
            if first_ts is None:
                first_ts, first_seq = stamp, seq
            b64.append(text)
            lines.append(number)
            stamps.append(stamp)
            seqs.append(seq)
            chunks.append(int(media.get("chunk", 0) or 0))
            if len(b64) >= chunk:
                yield flush()
    if b64:
        yield flush()


def _unreadable(number: int, path: Path, where: str, exc: Exception) -> ScenarioError:
    return ScenarioError(f"line {number} of {path.name} is not a readable media message ({exc})",
                         path=where, expected="one Twilio media message (JSON) per line")


def _decode_one(text, number: int, path: Path, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise _unreadable(number, path, where, exc) from None
