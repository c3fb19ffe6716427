"""``callreplay import capture``: capture files -> a scenario that replays the recorded inbound traffic.

Mapping (see docs/recording.md):

* webhook requests to routes the model knows -> ``webhook`` steps (path, method, form as
  ``params``, ``query``, the kept headers); other paths are skipped and listed as assumptions;
* ``connected`` / ``start`` / ``mark`` / ``dtmf`` / ``stop`` and unknown events -> raw ``ws`` steps,
  the message exactly as Twilio sent it;
* runs of consecutive inbound 160-byte ``media`` frames -> one ``ws: {media: {file: ...}}`` step per
  run, a mu-law WAV next to the scenario. A run ends at a gap of more than ``GAP_US``, when the
  frames fall more than ``GAP_US`` behind the 20 ms cadence the replay will use, or at any other
  message. A frame whose sequence number is not the stream's next one (a skip, a repeat, a swap) or
  whose payload is not a 160-byte frame becomes a raw ``media`` step, so protocol faults replay as
  recorded;
* a socket that closed without ``stop`` -> ``ws: close``.

Replay paces a file at exactly 20 ms. Where the recording delivered frames faster (a burst after
a stall), the replayed run ends later than the recorded one; the call's next step is then moved
to just after the run's last frame so no frame is reordered or cut off, and the largest such
shift is written under ``evidence.assumptions``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ...scenario.load import resolve_route
from ..audio_out import MulawWavWriter, envelope
from ..capture_file import MAX_FIELD_CHARS, format_error, read_capture
from ..redact import Redactor
from .output import ImportReport, Output, ScenarioDoc, format_at, load_businesses

GAP_US = 100_000
FRAME_US = 20_000
FRAME_BYTES = 160
AUDIO_CHOICES = ("keep", "envelope", "none")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Run:
    call: str
    at_abs: int
    writer: MulawWavWriter
    name: str
    last_abs: int
    frames: int = 0


@dataclass
class _Conn:
    call: str | None
    max_seq: int = 0
    stopped: bool = False
    run: _Run | None = None
    pending: list = field(default_factory=list)  # steps seen before the call is known


class _CaptureImport:
    def __init__(self, out: Output, redactor: Redactor, audio: str) -> None:
        self.out, self.redactor, self.audio = out, redactor, audio
        self.steps: list[tuple[int, int, dict[str, Any]]] = []  # (absolute us, order, step)
        self.not_before: dict[str, int] = {}
        self.run_counter: dict[str, int] = {}
        self.max_shift = 0
        self.assumptions: list[str] = []
        self.problems: list[str] = []
        self.skipped_paths: dict[str, int] = {}
        self.counts = {"ws.out": 0, "frames": 0, "raw_media": 0, "dropped_media": 0, "errors": 0}
        self.twiml_business: dict[str, str] = {}
        self.to_numbers: list[str] = []
        self.open_runs: list[_Run] = []   # WAV writers to close if the import fails half-way

    # -- steps --------------------------------------------------------------------------------------
    def add(self, abs_us: int, step: dict[str, Any]) -> None:
        call = step.get("call")
        if call is not None and abs_us < self.not_before.get(call, -1):
            self.max_shift = max(self.max_shift, self.not_before[call] - abs_us)
            abs_us = self.not_before[call]
        self.steps.append((abs_us, len(self.steps), step))

    def close_run(self, conn: _Conn) -> None:
        run = conn.run
        if run is None:
            return
        run.writer.close()
        if run in self.open_runs:
            self.open_runs.remove(run)
        conn.run = None
        self.add(run.at_abs, {"call": run.call, "ws": {"media": {"file": run.name}}})
        self.not_before[run.call] = run.at_abs + (run.frames - 1) * FRAME_US + 1

    def frame_bytes(self, payload: bytes) -> bytes:
        if self.audio == "keep":
            return payload
        frames = np.frombuffer(payload, dtype=np.uint8)
        if len(frames) == FRAME_BYTES:
            return bytes(envelope(frames.reshape(1, FRAME_BYTES))[0])
        from ...audio.mulaw import payload_rms
        from ..audio_out import envelope_frame
        pattern = envelope_frame(int(payload_rms([payload])[0]))
        return (pattern * (len(payload) // FRAME_BYTES + 1))[:len(payload)]

    # -- records ------------------------------------------------------------------------------------
    def http_request(self, abs_us: int, rec: dict[str, Any]) -> None:
        path, method = str(rec.get("path") or ""), str(rec.get("method") or "POST").upper()
        try:
            resolve_route(path)
        except KeyError:
            self.skipped_paths[path] = self.skipped_paths.get(path, 0) + 1
            return
        if method not in ("GET", "POST"):
            self.skipped_paths[f"{method} {path}"] = self.skipped_paths.get(f"{method} {path}", 0) + 1
            return
        form = {str(k): str(v) for k, v in self.redactor.value(rec.get("form") or {}).items()}
        query = {str(k): str(v) for k, v in self.redactor.value(rec.get("query") or {}).items()}
        step: dict[str, Any] = {"webhook": path}
        if method != "POST":
            step["method"] = method
        if form:
            step["params"] = form
        if query:
            step["query"] = query
        headers = {k: v for k, v in self.redactor.headers(dict(rec.get("headers") or {})).items()
                   if k.lower() != "content-type"}
        if headers:
            step["headers"] = headers
        to = form.get("To") or query.get("To")
        if to:
            self.to_numbers.append(to)
        self.add(abs_us, step)

    def http_response(self, rec: dict[str, Any], call: str | None) -> None:
        body = str(rec.get("body") or "")
        if call and 'name="business_id"' in body:
            import re
            match = re.search(r'<Parameter name="business_id" value="(\d+)"', body)
            if match:
                self.twiml_business[call] = match.group(1)

    def ws_in(self, abs_us: int, rec: dict[str, Any], conn: _Conn, where: str) -> None:
        text = rec["text"]
        cut = rec.get("truncated")
        if isinstance(cut, dict) and "text" in cut:
            self.problems.append(f"{where}: a Twilio message of {cut['text']} characters was cut at capture "
                                 f"(longer than {MAX_FIELD_CHARS}) and skipped")
            return
        try:
            msg = json.loads(text)
        except ValueError:
            self.problems.append(f"{where}: a Twilio message that is not JSON was skipped ({text[:40]!r})")
            return
        if not isinstance(msg, dict) or "event" not in msg:
            self.problems.append(f"{where}: a Twilio message without 'event' was skipped")
            return
        seq_value = msg.get("sequenceNumber")
        if isinstance(seq_value, (str, int)) and not isinstance(seq_value, bool) and len(str(seq_value)) > 15:
            file, _, line = where.rpartition(":")
            raise format_error(file, int(line), f"sequenceNumber has {len(str(seq_value))} characters",
                               "a Twilio sequence number (a decimal string of at most 15 digits)")
        msg = self.redactor.message(msg)
        event = msg["event"]
        if event == "start":
            sid = (msg.get("start") or {}).get("callSid") if isinstance(msg.get("start"), dict) else None
            if sid and isinstance(sid, str):
                if conn.call is not None and conn.call != sid:
                    self.rename_call(conn, sid, where)
                conn.call = sid
            self.check_start(msg, where)
        if event == "media":
            self.media(abs_us, msg, conn, where)
            return
        self.close_run(conn)
        seq = _seq(msg)
        if seq is not None:
            conn.max_seq = max(conn.max_seq, seq)
        if event == "stop":
            conn.stopped = True
        self.ws_step(abs_us, conn, msg)

    def check_start(self, msg: dict[str, Any], where: str) -> None:
        """Warn when the recorded start lacks what the model reads to find the business (the replay would be
        rejected at start, which the call-not-processed detector reports as an error)."""
        from ...detectors.not_processed import INBOUND_KEYS, missing_start_parameters

        start = _mapping(msg.get("start"))
        params = _mapping(start.get("customParameters"))
        direction = "outbound" if str(params.get("direction", "")).startswith("outbound") else "inbound"
        to = start.get("to") or next((params[k] for k in INBOUND_KEYS if params.get(k)), None)
        missing = missing_start_parameters(params, direction, to)
        if missing:
            shown = ", ".join(sorted(map(str, params))) or "none"
            self.problems.append(f"{where}: the recorded start lacks {', '.join(missing)} (customParameters: "
                                 f"{shown}); the model cannot identify the business and will reject the call")

    def rename_call(self, conn: _Conn, sid: str, where: str) -> None:
        """The start names another call than the capture header: the start wins (it is what the app reads)."""
        self.problems.append(f"{where}: the start names call {sid} but the capture header says {conn.call}; "
                             f"the socket's steps use {sid}")
        self.close_run(conn)
        for _, _, step in self.steps:
            if step.get("call") == conn.call:
                step["call"] = sid

    def ws_step(self, abs_us: int, conn: _Conn, ws: Any) -> None:
        if conn.call is None:
            conn.pending.append((abs_us, ws))
            return
        for pending_us, pending in conn.pending:
            self.add(pending_us, {"call": conn.call, "ws": pending})
        conn.pending.clear()
        self.add(abs_us, {"call": conn.call, "ws": ws})

    def media(self, abs_us: int, msg: dict[str, Any], conn: _Conn, where: str) -> None:
        media = _mapping(msg.get("media"))
        seq = _seq(msg)
        if self.audio == "none":
            self.counts["dropped_media"] += 1
            if seq is not None:
                conn.max_seq = max(conn.max_seq, seq)
            return
        try:
            payload = base64.b64decode(str(media.get("payload", "")), validate=True)
        except (binascii.Error, ValueError):
            payload = None
        regular = (payload is not None and len(payload) == FRAME_BYTES and seq == conn.max_seq + 1
                   and media.get("track", "inbound") in ("inbound", "inbound_track") and conn.call is not None)
        if seq is not None:
            conn.max_seq = max(conn.max_seq, seq)
        run = conn.run
        if run is not None and (not regular or abs_us - run.last_abs > GAP_US
                                or abs_us > run.at_abs + run.frames * FRAME_US + GAP_US):
            self.close_run(conn)
            run = None
        if not regular or payload is None or conn.call is None:
            raw = dict(msg)
            if payload is not None:
                raw["media"] = {**media, "payload": base64.b64encode(self.frame_bytes(payload)).decode()}
            self.counts["raw_media"] += 1
            self.ws_step(abs_us, conn, raw)
            return
        if run is None:
            self.close_run(conn)
            n = self.run_counter[conn.call] = self.run_counter.get(conn.call, 0) + 1
            name = f"{self.out.stem}-{conn.call}-{n:03d}.wav"
            at_abs = max(abs_us, self.not_before.get(conn.call, -1))
            self.max_shift = max(self.max_shift, at_abs - abs_us)
            run = conn.run = _Run(conn.call, at_abs, MulawWavWriter(self.out.side_path(name)), name, abs_us)
            self.open_runs.append(run)
        run.writer.write(self.frame_bytes(payload))
        run.frames += 1
        run.last_abs = abs_us
        self.counts["frames"] += 1

    def ws_close(self, abs_us: int, rec: dict[str, Any], conn: _Conn) -> None:
        self.close_run(conn)
        if not conn.stopped and conn.call is not None:
            self.ws_step(abs_us, conn, "close")
        conn.stopped = True


def _mapping(value: Any) -> dict[str, Any]:
    """A recorded message's sub-object, or an empty one when the recording holds something else there."""
    return value if isinstance(value, dict) else {}


def _seq(msg: dict[str, Any]) -> int | None:
    try:
        return int(msg["sequenceNumber"])
    except (KeyError, TypeError, ValueError):
        return None


def _started_at_us(header: dict[str, Any], path: Path) -> int:
    try:
        started = datetime.fromisoformat(str(header.get("started_at")))
    except ValueError:
        raise format_error(path, 1, f"started_at is {header.get('started_at')!r}", "an ISO-8601 instant") from None
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return (started - _EPOCH) // timedelta(microseconds=1)


def import_capture(files: list[Path], out: Path, *, businesses: Path | None = None, audio: str = "envelope",
                   keep: frozenset[str] = frozenset(), force: bool = False) -> ImportReport:
    """Turn capture files (one call each, any number of calls) into one scenario at ``out``."""
    if audio not in AUDIO_CHOICES:
        raise ValueError(f"unknown --audio {audio!r} (expected one of: {', '.join(AUDIO_CHOICES)})")
    files = [Path(f) for f in files]
    redactor = Redactor.for_folder(files[0].parent, keep, create=False) if files else Redactor(keep)
    output = Output(out, files + ([Path(businesses)] if businesses is not None else []), force)
    try:
        job = _CaptureImport(output, redactor, audio)
        for path in files:
            _import_file(job, path)
        doc = _document(job, files, businesses, redactor, audio, output)
        text = doc.render()
        written = output.commit(text)
    except BaseException:
        output.abort()
        raise
    return ImportReport(Path(out), written, len(doc.steps), doc.evidence["assumptions"], job.problems)


def _import_file(job: _CaptureImport, path: Path) -> None:
    reader = read_capture(path)
    base = _started_at_us(reader.header, path)
    header_call = reader.header.get("call_sid")
    conn: _Conn | None = None
    try:
        conn = _import_records(job, path, reader, base, header_call)
    except BaseException:
        for run in job.open_runs:
            run.writer.close()
        raise
    if conn is not None:
        job.close_run(conn)
        if conn.pending:
            job.problems.append(f"{path}: {len(conn.pending)} messages of a socket that never named its call "
                                "(no start, no call_sid in the header) were skipped")
    job.problems.extend(reader.problems)


def _import_records(job: _CaptureImport, path: Path, reader, base: int, header_call: str | None) -> _Conn | None:
    """Feed every record of one capture to the job; return the socket still open at the end."""
    conn: _Conn | None = None
    call_of_request: str | None = None
    for record in reader:
        abs_us = base + record["t_us"]
        kind = record["type"]
        where = f"{path}:{reader.line}"
        if kind == "http.request":
            form, query = record.get("form") or {}, record.get("query") or {}
            call_of_request = form.get("CallSid") or query.get("CallSid") or header_call
            job.http_request(abs_us, record)
        elif kind == "http.response":
            job.http_response(record, call_of_request)
        elif kind == "ws.open":
            if conn is not None:
                job.ws_close(abs_us, {}, conn)
            conn = _Conn(header_call)
        if kind == "ws.in":
            conn = conn or _Conn(header_call)  # a capture cut before its ws.open record
            job.ws_in(abs_us, record, conn, where)
        elif kind == "ws.out":
            job.counts["ws.out"] += 1
        elif kind == "ws.close":
            job.ws_close(abs_us, record, conn or _Conn(header_call))
            conn = None
        elif kind == "error":
            job.counts["errors"] += 1
            detail = job.redactor.text(str(record.get("detail", "")))
            job.problems.append(f"{where}: recorded error: {record.get('what')}: {detail}")
    return conn


def _document(job: _CaptureImport, files: list[Path], businesses_file: Path | None, redactor: Redactor,
              audio: str, output: Output) -> ScenarioDoc:
    ordered = sorted(job.steps, key=lambda s: (s[0], s[1]))
    if not ordered:
        raise format_error(files[0] if files else output.target, None, "no webhook or Media Streams traffic to import",
                           "captures with http.request or ws.in records")
    origin = ordered[0][0]
    steps = [{"at": format_at(abs_us - origin), **step} for abs_us, _, step in ordered]
    assumptions = []
    if audio == "envelope":
        assumptions.append("caller audio replaced by an RMS-matched synthetic signal (--audio envelope): gate "
                           "decisions are the same, the words are gone")
    elif audio == "none":
        assumptions.append(f"caller audio dropped (--audio none): {job.counts['dropped_media']} media frames not "
                           "replayed, so audio-path findings are not meaningful")
    if job.max_shift:
        assumptions.append(f"media replays at an exact 20 ms cadence; steps were moved later by up to "
                           f"{format_at(job.max_shift)} so no frame is reordered")
    for path, count in sorted(job.skipped_paths.items()):
        assumptions.append(f"{count} request(s) to {path} skipped: not a webhook the model implements")
    if businesses_file is not None:
        businesses = load_businesses(businesses_file, redactor)
        template = False
    else:
        businesses, template = _template_businesses(job), True
        assumptions.append("TEMPLATE businesses: the capture cannot see the business settings; ids come from the "
                           "TwiML business_id parameter, phones from the webhook To; prompts are placeholders")
    evidence = {"source": "capture", "files": [f.name for f in files], "audio": audio,
                "counts": {"media_frames_in_files": job.counts["frames"], "raw_media_steps": job.counts["raw_media"],
                           "app_to_twilio_messages": job.counts["ws.out"], "recorded_errors": job.counts["errors"]},
                "assumptions": assumptions}
    if job.problems:
        evidence["problems"] = list(job.problems)
    origin_dt = _EPOCH + timedelta(microseconds=origin)
    return ScenarioDoc(
        name=output.stem, description=f"Imported by callreplay import capture from {len(files)} capture file(s).",
        clock_start=origin_dt.isoformat(), steps=steps, businesses=businesses, businesses_template=template,
        evidence=evidence, header=["Imported from recorded traffic by `callreplay import capture`.",
                                   "Phone numbers are pseudonyms; secrets and signatures were removed."])


def _template_businesses(job: _CaptureImport) -> list[dict[str, Any]]:
    ids = sorted({int(b) for b in job.twiml_business.values()}) or [1]
    phones = list(dict.fromkeys(job.to_numbers))
    out = []
    for i, business_id in enumerate(ids):
        out.append({"id": business_id, "name": f"TEMPLATE: name of business {business_id}",
                    "phone": phones[i] if i < len(phones) else None,
                    "settings": {"ai_prompt": "TEMPLATE: the inbound prompt (ai_prompt)",
                                 "outbound_ai_prompt": "TEMPLATE: the prompt for calls the business places"}})
    return out
