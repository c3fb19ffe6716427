"""The capture file: one JSON-Lines file per call, written as traffic arrives, read back in bounded memory.

Line 1 is a header ``{"type":"capture","version":1,"call_sid":...,"started_at":ISO}``; every
following line is one record with ``t_us`` (microseconds since the recording session started, from
``time.monotonic_ns``) and ``type``:

    http.request   method, path, query{}, form{}, headers{} (Content-Type, X-Twilio-Signature,
                   X-Forwarded-Host, User-Agent)
    http.response  status, content_type, body (as the target sent it), rewritten (bool)
    ws.open        path, subprotocol
    ws.in          text: a Twilio -> app message, verbatim
    ws.out         text: an app -> Twilio message, verbatim
    ws.close       code, by ("twilio" | "app" | "proxy")
    error          what failed (``what``, ``detail``, ``target``)

Why lines and a flush per record: a crash leaves at most one half-written last line, which the
reader reports and skips while keeping everything before it; a 2-hour call never sits in memory.
The reader never calls ``read()`` on the whole file: each line is read with a size cap, so a
1 GB file of NUL bytes fails on its first line instead of exhausting memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import ImportFormatError, ScenarioError
from ..scenario.yamlsafe import load_side_yaml

FORMAT_VERSION = 1
RECORD_TYPES = ("http.request", "http.response", "ws.open", "ws.in", "ws.out", "ws.close", "error")
MAX_LINE_BYTES = 8 * 1024 * 1024
"""Longest line the reader accepts; a Media Streams message is ~300 bytes, a TwiML body a few KB."""
MAX_FIELD_CHARS = 1024 * 1024
"""Longest text the writer keeps in one field. Even all escaped (6 bytes a character) it stays under
:data:`MAX_LINE_BYTES`, so whatever the proxy writes its own reader accepts; a longer message is cut
and the record says so (``truncated``: field -> original length), and the importer skips it."""
KEPT_HEADERS = ("Content-Type", "X-Twilio-Signature", "X-Forwarded-Host", "User-Agent")


def format_error(file: str | Path, line: int | None, what: str, expected: str | None = None) -> ImportFormatError:
    """An ImportFormatError whose text is ``file:line: what (expected ...)``, the CLI's one-line form."""
    where = f"{file}:{line}" if line is not None else str(file)
    text = f"{where}: {what}" + (f" (expected {expected})" if expected else "")
    error = ImportFormatError(text)
    error.file, error.line, error.what, error.expected = str(file), line, what, expected
    return error


def read_side_yaml(path: str | Path, expected: str) -> object:
    """A YAML input of an import (``--businesses``, ``--format``), refused as the scenario loader refuses
    hostile YAML; its errors take the import's one-line form."""
    try:
        return load_side_yaml(Path(path))
    except ScenarioError as exc:
        raise format_error(path, exc.line, exc.message + (f" at {exc.path}" if exc.path else ""),
                           exc.expected or expected) from None


def _cut(value: Any, limit: int, path: str, cut: dict[str, int]) -> Any:
    if isinstance(value, str) and len(value) > limit:
        cut[path] = len(value)
        return value[:limit]
    if isinstance(value, dict):
        return {k: _cut(v, limit, f"{path}.{k}" if path else str(k), cut) for k, v in value.items()}
    return value


def bounded(record: dict[str, Any]) -> dict[str, Any]:
    """The record with every text field cut to :data:`MAX_FIELD_CHARS` (fewer if the line would still
    exceed :data:`MAX_LINE_BYTES`), naming what was cut under ``truncated``."""
    limit = MAX_FIELD_CHARS
    while True:
        cut: dict[str, int] = {}
        out = _cut(record, limit, "", cut)
        if cut:
            out["truncated"] = cut
        if not cut or len(_dumps(out).encode("utf-8", "surrogatepass")) <= MAX_LINE_BYTES - 1:
            return out
        limit //= 2


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class CaptureWriter:
    """Appends records to one call's capture file, one flushed line each.

    Opening an existing file appends without a second header, so a call whose late webhooks
    (``stream_ended``, ``call_status``) arrive after its socket closed stays in one file.
    """

    def __init__(self, path: Path, call_sid: str | None, started_at: str) -> None:
        self.path = Path(path)
        existed = self.path.exists() and self.path.stat().st_size > 0
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8", newline="\n")
        if not existed:
            self._write({"type": "capture", "version": FORMAT_VERSION, "call_sid": call_sid,
                         "started_at": started_at})

    def _write(self, obj: dict[str, Any]) -> None:
        if self._file is None:
            raise ValueError(f"{self.path}: capture file already closed")
        self._file.write(_dumps(obj) + "\n")  # one write per line: a crash cuts at most the last line
        self._file.flush()

    def write(self, t_us: int, type_: str, **fields: Any) -> None:
        if type_ not in RECORD_TYPES:
            raise ValueError(f"unknown capture record type {type_!r}")
        self._write(bounded({"t_us": int(t_us), "type": type_, **fields}))

    @property
    def closed(self) -> bool:
        return self._file is None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


MAX_T_US = 10 ** 15
_SCALAR = (str, int, float, bool)
_FIELD_TYPES: dict[str, dict[str, str]] = {
    "capture": {"call_sid": "text", "started_at": "text"},
    "http.request": {"method": "text", "path": "text", "form": "fields", "query": "fields", "headers": "headers"},
    "http.response": {"status": "integer", "body": "text", "content_type": "text"},
    "ws.open": {"path": "text", "subprotocol": "text"},
    "ws.close": {"code": "integer", "by": "text", "reason": "text"},
    "error": {"what": "text", "detail": "text"},
}
_SHAPE_NAMES = {"text": "a string", "integer": "an integer", "fields": "an object of text or number values",
                "headers": "an object of text values"}


def _has_shape(value: object, shape: str) -> bool:
    if shape == "text":
        return isinstance(value, str)
    if shape == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 53
    if shape == "fields":
        return isinstance(value, dict) and all(v is None or isinstance(v, _SCALAR) for v in value.values())
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


class CaptureReader:
    """Iterates the records of one capture file; ``header`` is read on construction.

    After iteration ``problems`` lists what was tolerated (a truncated last line, unknown record
    types), each as ``file:line: what``. Anything else malformed raises ImportFormatError.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.problems: list[str] = []
        self.records_read = 0
        try:
            self._file = self.path.open("rb")
        except OSError as exc:
            raise format_error(self.path, None, f"cannot read the file: {exc.strerror}") from None
        self._line_no = 0
        self.line = 1
        try:
            first = self._next_raw()
            if first is None:
                raise format_error(self.path, 1, "the file is empty", "a capture header line")
            header = self._parse(first[0], 1, last=False)
            if header.get("type") != "capture" or header.get("version") != FORMAT_VERSION:
                raise format_error(self.path, 1, "the first line is not a capture header",
                                   f'{{"type":"capture","version":{FORMAT_VERSION},...}}')
            for name in ("call_sid", "started_at"):
                if header.get(name) is not None and not isinstance(header.get(name), str):
                    raise format_error(self.path, 1, f"the header's {name} is {type(header[name]).__name__}",
                                       "a string")
        except BaseException:
            self._file.close()
            raise
        self.header: dict[str, Any] = header

    def _next_raw(self) -> tuple[bytes, bool] | None:
        raw = self._file.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return None
        self._line_no += 1
        if b"\x00" in raw:
            raise format_error(self.path, self._line_no, "binary data (NUL bytes)",
                               "UTF-8 JSON text, one record a line")
        if len(raw) > MAX_LINE_BYTES:
            raise format_error(self.path, self._line_no, f"a line longer than {MAX_LINE_BYTES} bytes",
                               "one JSON record a line")
        complete = raw.endswith(b"\n")
        return raw, complete

    def _parse(self, raw: bytes, line: int, *, last: bool) -> dict[str, Any]:
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise format_error(self.path, line, "the line is not UTF-8 text", "one JSON record a line") from None
        except json.JSONDecodeError as exc:
            raise format_error(self.path, line, f"not valid JSON ({exc.msg} at column {exc.colno})",
                               "one JSON record a line") from None
        if not isinstance(obj, dict):
            raise format_error(self.path, line, f"a JSON {type(obj).__name__}", "a JSON object")
        return obj

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            pending = self._next_raw()
            while pending is not None:
                raw, complete = pending
                line = self._line_no
                following = self._next_raw()
                is_last = following is None
                if not raw.strip():
                    pending = following
                    continue
                try:
                    record = self._parse(raw, line, last=is_last)
                except ImportFormatError as exc:
                    if not is_last:
                        raise
                    self.problems.append(f"{self.path}:{line}: truncated or garbled last line ignored "
                                         f"({'no newline, ' if not complete else ''}{exc.what}); "
                                         f"the {self.records_read} records before it are kept")
                    return
                checked = self._check(record, line)
                if checked is not None:
                    self.records_read += 1
                    self.line = line
                    yield checked
                pending = following
        finally:
            self._file.close()

    def _check(self, record: dict[str, Any], line: int) -> dict[str, Any] | None:
        t_us = record.get("t_us")
        if not isinstance(t_us, int) or isinstance(t_us, bool) or t_us < 0:
            raise format_error(self.path, line, f"t_us is {t_us!r}", "a non-negative integer number of microseconds")
        kind = record.get("type")
        if kind not in RECORD_TYPES:
            self.problems.append(f"{self.path}:{line}: unknown record type {kind!r} skipped "
                                 f"(known: {', '.join(RECORD_TYPES)})")
            return None
        if kind in ("ws.in", "ws.out") and not isinstance(record.get("text"), str):
            raise format_error(self.path, line, f"{kind} record without a text message", '"text": "<message>"')
        if t_us > MAX_T_US:
            raise format_error(self.path, line, f"t_us is {t_us}", f"at most {MAX_T_US} (about 31 years)")
        for name, expected in _FIELD_TYPES.get(kind, {}).items():
            value = record.get(name)
            if value is not None and not _has_shape(value, expected):
                raise format_error(self.path, line, f"{kind} field {name!r} is {type(value).__name__}",
                                   _SHAPE_NAMES[expected])
        return record

    def close(self) -> None:
        self._file.close()


def read_capture(path: str | Path) -> CaptureReader:
    """Open a capture for reading: header now, records as you iterate."""
    return CaptureReader(path)
