"""``callreplay import logs``: application logs -> a scenario skeleton plus the evidence it rests on.

Logs tell when things happened and which branches ran, not the audio or the stored settings. The
importer therefore rebuilds each call's lifecycle at the logged times (webhook, connected, start,
media, stop) and infers the business settings only as far as the prompt log lines allow; anything
else is an explicit assumption under ``evidence.assumptions``. The matched lines are kept next to
the scenario (``NAME.evidence.log``, redacted) so a report can show what the scenario rests on.

Event names this module understands (a format may define any subset, other names are evidence):
webhook_start, webhook_params, calllog, ws_start, direction_set, caller_params, call_start,
prompt_fallback, prompt_error, prompt_mismatch, prompt_bind, prompt_cache, missing_prebuilt,
hard_limit, ws_stop, call_end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..capture_file import format_error
from ..redact import Redactor
from .log_format import LogFormat, RegexTimeout, load_format
from .output import ImportReport, Output, ScenarioDoc, format_at, load_businesses

MAX_LINE_BYTES = 1024 * 1024
CONNECT_AFTER_WEBHOOK = timedelta(milliseconds=800)
START_AFTER_CONNECT = timedelta(milliseconds=20)
HARD_LIMIT_TAIL = timedelta(seconds=2)
MEDIA_PATTERN = [{"speech": {"duration": "4s", "rms": 1500}}, {"silence": "3s"}]


@dataclass
class _Call:
    sid: str
    route: str = "incoming_call"
    webhook: datetime | None = None
    ws_start: datetime | None = None
    start: datetime | None = None
    stop: datetime | None = None
    end: datetime | None = None
    hard_limit: datetime | None = None
    from_: str | None = None
    to: str | None = None
    direction: str | None = None
    business_id: int | None = None
    events: list[tuple[datetime, str]] = field(default_factory=list)


@dataclass
class _Business:
    fallback_used: str | None = None  # "outbound" / "inbound" / "system_prompt"
    fallback_for: str | None = None
    missing: set[str] = field(default_factory=set)
    none: bool = False
    bind_matched: bool = False
    mismatch_prebuilt: str | None = None


class _LogImport:
    def __init__(self, fmt: LogFormat, redactor: Redactor) -> None:
        self.fmt, self.redactor = fmt, redactor
        self.calls: dict[str, _Call] = {}
        self.businesses: dict[int, _Business] = {}
        self.evidence_lines: list[str] = []
        self.unmatched = 0
        self.lines = 0
        self.pending_webhook: tuple[datetime, str] | None = None
        self.first_time: datetime | None = None
        self.counts: dict[str, int] = {}

    def call(self, sid: str | None) -> _Call | None:
        """A call by full CallSid, or by the 8-character prefix the pipeline logs (latest open call wins)."""
        if not sid:
            return None
        if sid in self.calls:
            return self.calls[sid]
        if len(sid) >= 34:
            self.calls[sid] = _Call(sid)
            return self.calls[sid]
        matches = [c for c in self.calls.values() if c.sid.startswith(sid)]
        open_ = [c for c in matches if c.end is None]
        candidates = open_ or matches
        return candidates[-1] if candidates else None

    def feed(self, path: Path, line_no: int, text: str) -> None:
        self.lines += 1
        prefix = self.fmt.timestamp.match(text)
        if not prefix:
            self.unmatched += 1
            return
        try:
            when = self.fmt.parse_time(prefix.group("timestamp"))
        except ValueError:
            self.unmatched += 1
            return
        if not 1970 <= when.year <= 9000:
            raise format_error(path, line_no, f"the timestamp {prefix.group('timestamp')!r} is out of range",
                               "a time between the years 1970 and 9000")
        message = text[prefix.end():]
        for name, regex in self.fmt.events:
            match = regex.search(message)
            if match:
                self.counts[name] = self.counts.get(name, 0) + 1
                self.first_time = self.first_time or when
                self.evidence_lines.append(f"{path.name}:{line_no}: {self.redactor.text(text)}")
                self.apply(name, when, {k: v for k, v in match.groupdict().items() if v is not None})
                return
        self.unmatched += 1

    def apply(self, name: str, when: datetime, g: dict[str, str]) -> None:
        if name == "webhook_start":
            self.pending_webhook = (when, g.get("route", "incoming_call"))
            return
        if name == "hard_limit":
            live = [c for c in self.calls.values() if c.start and c.end is None and c.hard_limit is None]
            if live:
                live[-1].hard_limit = when
                live[-1].events.append((when, name))
            return
        if name in ("prompt_fallback", "prompt_error"):
            biz_text = g.get("business_id") or g.get("none_business_id") or ""
            if not biz_text.isdigit():
                return
            b = self.businesses.setdefault(int(biz_text), _Business())
            if name == "prompt_fallback":
                b.fallback_used, b.fallback_for = g.get("used"), g.get("requested")
            elif g.get("none_business_id"):
                b.none = True
            else:
                b.missing.add(g.get("direction", "inbound"))
            return
        call = self.call(g.get("call_sid"))
        if call is None:
            return
        call.events.append((when, name))
        if name in ("webhook_params", "calllog"):
            if call.webhook is None:
                pending = self.pending_webhook
                if pending is not None and timedelta(0) <= when - pending[0] <= timedelta(seconds=5):
                    call.webhook, call.route = pending[0], g.get("route") or pending[1]
                    self.pending_webhook = None
                else:
                    call.webhook, call.route = when, g.get("route") or call.route
            call.from_ = g.get("from", call.from_)
            call.to = g.get("to", call.to)
            call.direction = g.get("twilio_direction") or g.get("direction") or call.direction
        elif name == "ws_start":
            call.ws_start = when
        elif name in ("direction_set", "call_start"):
            call.start = call.start or when
            call.direction = call.direction or g.get("direction")
            if g.get("business_id", "").isdigit():
                call.business_id = int(g["business_id"])
        elif name == "caller_params":
            call.from_ = call.from_ or g.get("from")
        elif name == "prompt_bind" and call.business_id:
            self.businesses.setdefault(call.business_id, _Business()).bind_matched = g.get("status") == "MATCHED"
        elif name == "prompt_mismatch" and call.business_id:
            self.businesses.setdefault(call.business_id, _Business()).mismatch_prebuilt = g.get("prebuilt")
        elif name == "ws_stop":
            call.stop = call.stop or when
        elif name == "call_end":
            call.end = when


def _read_lines(job: _LogImport, path: Path) -> None:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise format_error(path, None, f"cannot read the file: {exc.strerror}") from None
    with handle:
        line_no = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            line_no += 1
            if b"\x00" in raw:
                raise format_error(path, line_no, "binary data (NUL bytes)", "a text log, one entry a line")
            if len(raw) > MAX_LINE_BYTES:
                raise format_error(path, line_no, f"a line longer than {MAX_LINE_BYTES} bytes", "a text log")
            try:
                job.feed(path, line_no, raw.decode("utf-8", "replace").rstrip("\r\n"))
            except RegexTimeout as exc:
                raise format_error(path, line_no, str(exc), "a regex without nested repetition") from None
    if line_no == 0:
        raise format_error(path, 1, "the file is empty", "application log lines")


def import_logs(files: list[Path], out: Path, *, fmt: str = "prosaas", businesses: Path | None = None,
                keep: frozenset[str] = frozenset(), force: bool = False) -> ImportReport:
    files = [Path(f) for f in files]
    log_format = load_format(fmt)
    job = _LogImport(log_format, Redactor(keep))
    for path in files:
        _read_lines(job, path)
    calls = [c for c in job.calls.values() if c.webhook or c.start]
    if not calls:
        raise format_error(files[0], None, f"no call found in {job.lines} lines ({job.unmatched} matched nothing)",
                           f"log lines of the {job.fmt.name!r} format with CallSids")
    output = Output(out, files + [p for p in (businesses, log_format.source) if p is not None], force)
    try:
        doc, assumptions = _document(job, calls, files, output, businesses)
        evidence_name = f"{output.stem}.evidence.log"
        output.side_path(evidence_name).write_text("\n".join(job.evidence_lines) + "\n", encoding="utf-8")
        written = output.commit(doc.render())
    except BaseException:
        output.abort()
        raise
    problems = [f"{job.unmatched} of {job.lines} lines matched no event of the {job.fmt.name!r} format"] \
        if job.unmatched else []
    return ImportReport(Path(out), written, len(doc.steps), assumptions, problems, job.unmatched)


def _document(job: _LogImport, calls: list[_Call], files: list[Path], output: Output,
              businesses_file: Path | None) -> tuple[ScenarioDoc, list[str]]:
    red = job.redactor
    assumptions = ["caller audio is not in logs: every call streams a synthetic speech/silence pattern "
                   "(4 s speech at rms 1500, 3 s silence) from its start to its end"]
    times: list[tuple[datetime, int, dict[str, Any]]] = []
    biz_phone: dict[int, str] = {}
    for call in calls:
        business_id = call.business_id
        if business_id is None and len(job.businesses) == 1:
            business_id = next(iter(job.businesses))
        to = red.text(call.to) if call.to else None
        if to and business_id:
            biz_phone.setdefault(business_id, to)
        start = call.start or (call.ws_start + START_AFTER_CONNECT if call.ws_start else None)
        webhook = call.webhook or (start - CONNECT_AFTER_WEBHOOK - START_AFTER_CONNECT if start else None)
        if webhook is None:
            assumptions.append(f"{call.sid}: neither a webhook nor a stream start logged; the call is left out")
            continue
        if call.webhook is None:
            assumptions.append(f"{call.sid}: no webhook line; webhook assumed {format_at(820_000)} before the start")
        params = {"CallSid": call.sid, "From": red.text(call.from_ or "+15559999999"), "To": to or "", "Direction":
                  call.direction or "inbound"}
        if not call.from_:
            assumptions.append(f"{call.sid}: caller number not logged; a placeholder From is used")
        step: dict[str, Any] = {"webhook": f"/webhook/{call.route}", "params": params}
        if call.route == "outbound_call":
            step["query"] = {"business_id": str(business_id or 1)}
        times.append((webhook, 0, step))
        if start is None:
            assumptions.append(f"{call.sid}: no stream start logged; only the webhook is replayed")
            continue
        connected = call.ws_start or start - START_AFTER_CONNECT
        times.append((connected, 1, {"call": call.sid, "ws": "connected"}))
        times.append((start, 2, {"call": call.sid, "ws": "start"}))
        end = call.end or call.stop
        if call.hard_limit:
            media_end = (end or call.hard_limit) + HARD_LIMIT_TAIL
            assumptions.append(f"{call.sid}: the pipeline's hard limit ended the call (logged at "
                               f"{call.hard_limit.isoformat()}); the caller is assumed to keep talking until "
                               f"{format_at(HARD_LIMIT_TAIL // timedelta(microseconds=1))} after CALL_END, "
                               "no Twilio stop")
        elif end is None:
            media_end = start + timedelta(seconds=60)
            assumptions.append(f"{call.sid}: no end logged; media assumed for 60 s, then the socket closes")
        else:
            media_end = end
        media_start = start + START_AFTER_CONNECT
        span_us = max(int((media_end - media_start) / timedelta(microseconds=1)), 20_000)
        times.append((media_start, 3, {"call": call.sid, "ws": {"media": MEDIA_PATTERN}, "for": format_at(span_us)}))
        if not call.hard_limit:
            stop_at = call.stop or end
            times.append((stop_at if stop_at else media_end, 4,
                          {"call": call.sid, "ws": "stop" if stop_at else "close"}))
    if not any(c.to for c in calls):
        assumptions.append("the To number is not logged; calls reach their business through the webhook's "
                           "first-active-business fallback")
    origin = min(t for t, _, _ in times)
    ordered = sorted(times, key=lambda x: (x[0], x[1]))
    steps = [{"at": format_at(int((t - origin) / timedelta(microseconds=1))), **s} for t, _, s in ordered]
    if businesses_file is not None:
        businesses, template = load_businesses(businesses_file, red), False
    else:
        businesses, template = _infer_businesses(job, calls, biz_phone, assumptions), True
    evidence = {"source": "logs", "format": job.fmt.name, "files": [f.name for f in files],
                "log_file": f"{output.stem}.evidence.log",
                "lines": {"total": job.lines, "matched": job.lines - job.unmatched, "unmatched": job.unmatched},
                "events": dict(sorted(job.counts.items())), "assumptions": assumptions}
    doc = ScenarioDoc(name=output.stem, description=f"Reconstructed by callreplay import logs from {len(files)} log "
                      f"file(s): {len(calls)} call(s).", clock_start=origin.isoformat(), steps=steps,
                      businesses=businesses, businesses_template=template, evidence=evidence,
                      timezone=job.fmt.timezone,
                      header=["Reconstructed from application logs by `callreplay import logs`.",
                              "Times are the logged times; audio and settings are ASSUMPTIONS (see evidence)."])
    return doc, assumptions


def _infer_businesses(job: _LogImport, calls: list[_Call], phones: dict[int, str],
                      assumptions: list[str]) -> list[dict[str, Any]]:
    ids = sorted({c.business_id for c in calls if c.business_id} | set(job.businesses)) or [1]
    out = []
    for business_id in ids:
        facts = job.businesses.get(business_id, _Business())
        settings: dict[str, Any] = {"ai_prompt": "TEMPLATE: the inbound prompt (not in the logs)",
                                    "outbound_ai_prompt": "TEMPLATE: the prompt for calls the business places"}
        placeholder = ("ASSUMED placeholder: the script this business uses when it places calls. Its text is not "
                       "in the logs; paste the real one here.")
        if facts.mismatch_prebuilt == "outbound":
            placeholder += " (The real text contains the word 'outbound': the logs show PROMPT_MISMATCH.)"
        if facts.fallback_used == "outbound" and facts.fallback_for == "inbound":
            settings = {"ai_prompt": "", "outbound_ai_prompt": placeholder}
            assumptions.append(f"business {business_id}: '[PROMPT FALLBACK] Using outbound prompt as fallback for "
                               "inbound' means ai_prompt was empty and outbound_ai_prompt set; its text is a "
                               "placeholder" + (" without the word 'outbound', because PROMPT_BIND was MATCHED"
                                                if facts.bind_matched else ""))
        elif facts.fallback_used == "inbound" and facts.fallback_for == "outbound":
            settings = {"ai_prompt": placeholder.replace("places calls", "answers calls"), "outbound_ai_prompt": ""}
            assumptions.append(f"business {business_id}: inbound prompt used for outbound calls: outbound_ai_prompt "
                               "was empty, ai_prompt set (text is a placeholder)")
        elif facts.none:
            settings = {"ai_prompt": "", "outbound_ai_prompt": ""}
            assumptions.append(f"business {business_id}: 'No prompts available' means both prompts were empty")
        else:
            assumptions.append(f"business {business_id}: the logs show no prompt fallback; both prompts are "
                               "TEMPLATE placeholders")
        phone = phones.get(business_id)
        if phone is None:
            assumptions.append(f"business {business_id}: phone number not in the logs")
        out.append({"id": business_id, "name": f"TEMPLATE: name of business {business_id}", "phone": phone,
                    "settings": settings})
    return out
