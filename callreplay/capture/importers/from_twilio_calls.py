"""``callreplay import twilio-calls``: a Twilio call-log export (CSV) -> one call skeleton per row.

A postmortem often starts from "every call of that afternoon" in the Twilio console. The export
has times, numbers, direction and status, nothing about prompts or audio, so each answered call
becomes webhook + connected + start + a speech/silence pattern for its duration + stop, and the
rest is written down as assumptions. Column names are matched leniently (case, spaces,
underscores; extra columns ignored) and the date forms Twilio uses are all accepted.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..capture_file import format_error
from ..redact import Redactor
from .output import ImportReport, Output, ScenarioDoc, format_at, load_businesses

REQUIRED = {"callsid": "Call Sid", "from": "From", "to": "To", "direction": "Direction", "status": "Status",
            "starttime": "Start Time", "endtime": "End Time", "duration": "Duration"}
ALIASES = {"sid": "callsid", "durationseconds": "duration", "callduration": "duration", "start": "starttime",
           "end": "endtime", "callstatus": "status"}
ANSWERED = ("completed", "in-progress")
MEDIA_PATTERN = [{"speech": {"duration": "4s", "rms": 1500}}, {"silence": "3s"}]
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S",
                 "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


MAX_CALL_SECONDS = 24 * 3600   # a Twilio call lasts at most 24 hours


def parse_twilio_time(text: str) -> tuple[datetime, bool]:
    """A Twilio export timestamp; returns (aware datetime, True if the text had no offset and UTC was assumed)."""
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (value, False) if value.tzinfo else (value.replace(tzinfo=UTC), True)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (value, False) if value.tzinfo else (value.replace(tzinfo=UTC), True)
    except ValueError:
        pass
    try:
        value = email.utils.parsedate_to_datetime(text)  # RFC 2822: "Thu, 08 Jan 2026 08:00:00 +0000"
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a date Twilio writes") from None
    return (value, False) if value.tzinfo else (value.replace(tzinfo=UTC), True)


def _key(column: str) -> str:
    key = re.sub(r"[\s_\-()]", "", str(column)).lower()
    return ALIASES.get(key, key)


def _read_csv(path: Path):
    import pandas as pd

    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
        if b"\x00" in head:
            raise format_error(path, 1, "binary data (NUL bytes)", "a CSV call-log export")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except OSError as exc:
        raise format_error(path, None, f"cannot read the file: {exc.strerror}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        where = re.search(r"line (\d+)", str(exc))
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise format_error(path, int(where.group(1)) if where else 1, f"not a readable CSV ({first})",
                           "a Twilio call-log export") from None
    columns = {_key(c): c for c in frame.columns}
    missing = [label for key, label in REQUIRED.items() if key not in columns]
    if missing:
        raise format_error(path, 1, "missing column(s) " + ", ".join(missing),
                           "the Twilio export columns " + ", ".join(REQUIRED.values()))
    return frame, columns


def import_twilio_calls(files: list[Path], out: Path, *, businesses: Path | None = None,
                        keep: frozenset[str] = frozenset(), force: bool = False) -> ImportReport:
    files = [Path(f) for f in files]
    red = Redactor(keep)
    rows: list[dict[str, Any]] = []
    assumptions = ["caller audio is not in a call export: each answered call streams a synthetic speech/silence "
                   "pattern for its Duration", "Twilio opens the stream 0.8 s after the webhook and sends start "
                   "20 ms later", "settings and prompts are not in a call export: businesses are a TEMPLATE"]
    for path in files:
        frame, cols = _read_csv(path)
        for index, record in enumerate(frame.to_dict("records")):
            line = index + 2
            get = {k: str(record[c]).strip() for k, c in cols.items()}
            try:
                start, naive = parse_twilio_time(get["starttime"])
                end = parse_twilio_time(get["endtime"])[0] if get["endtime"] else None
            except ValueError as exc:
                raise format_error(path, line, str(exc), "e.g. 2026-01-08 10:00:00 +0200, ISO-8601 or "
                                   "Thu, 08 Jan 2026 08:00:00 +0000") from None
            if naive:
                assumptions.append(f"{path.name}:{line}: time without UTC offset read as UTC")
            try:
                duration = int(float(get["duration"] or 0))
            except (ValueError, OverflowError):
                raise format_error(path, line, f"Duration is {get['duration']!r}", "whole seconds") from None
            if not 0 <= duration <= MAX_CALL_SECONDS:
                raise format_error(path, line, f"Duration is {get['duration']!r}",
                                   f"whole seconds from 0 to {MAX_CALL_SECONDS}")
            if not 1970 <= start.year <= 9000 or (end is not None and not 1970 <= end.year <= 9000):
                raise format_error(path, line, "a start or end time is out of range", "a time between 1970 and 9000")
            if not re.match(r"^CA[0-9a-fA-F]{32}$", get["callsid"]):
                raise format_error(path, line, f"Call Sid is {get['callsid']!r}", "CA followed by 32 hex digits")
            rows.append({"sid": get["callsid"], "from": red.text(get["from"]), "to": red.text(get["to"]),
                         "direction": get["direction"].lower(), "status": get["status"].lower(),
                         "start": start, "end": end, "duration": duration, "where": f"{path.name}:{line}"})
    if not rows:
        raise format_error(files[0], 2, "no calls in the export", "one row per call")
    rows.sort(key=lambda r: (r["start"], r["sid"]))
    numbers: dict[str, int] = {}
    for row in rows:
        own = row["from"] if row["direction"].startswith("outbound") else row["to"]
        row["business"] = numbers.setdefault(own, len(numbers) + 1)
    origin = rows[0]["start"]
    steps: list[tuple[timedelta, int, dict[str, Any]]] = []
    for order, row in enumerate(rows):
        _call_steps(row, order, origin, steps, assumptions)
    steps.sort(key=lambda s: (s[0], s[1]))
    output = Output(out, files + ([Path(businesses)] if businesses is not None else []), force)
    try:
        if businesses is not None:
            business_list, template = load_businesses(businesses, red), False
        else:
            template = True
            business_list = [{"id": i, "name": f"TEMPLATE: name of business {i}", "phone": number,
                              "settings": {"ai_prompt": "TEMPLATE: the inbound prompt (ai_prompt)",
                                           "outbound_ai_prompt": "TEMPLATE: the prompt for calls the business places"}}
                             for number, i in numbers.items()]
        doc = ScenarioDoc(
            name=output.stem, description=f"Imported by callreplay import twilio-calls: {len(rows)} call(s).",
            clock_start=origin.isoformat(), steps=[{"at": format_at(t // timedelta(microseconds=1)), **s}
                                                   for t, _, s in steps],
            businesses=business_list, businesses_template=template,
            evidence={"source": "twilio-calls", "files": [f.name for f in files], "calls": len(rows),
                      "assumptions": assumptions},
            header=["Imported from a Twilio call-log export by `callreplay import twilio-calls`."])
        written = output.commit(doc.render())
    except BaseException:
        output.abort()
        raise
    return ImportReport(Path(out), written, len(doc.steps), assumptions, [])


def _call_steps(row: dict[str, Any], order: int, origin: datetime, steps: list, assumptions: list[str]) -> None:
    t0 = row["start"] - origin
    sid = row["sid"]
    outbound = row["direction"].startswith("outbound")
    params = {"CallSid": sid, "From": row["from"], "To": row["to"],
              "Direction": row["direction"] or ("outbound-api" if outbound else "inbound")}
    step: dict[str, Any] = {"webhook": "/webhook/outbound_call" if outbound else "/webhook/incoming_call",
                            "params": params}
    if outbound:
        step["query"] = {"business_id": str(row["business"])}
    answered = row["status"] in ANSWERED and row["duration"] > 0
    if not answered:
        if outbound:
            assumptions.append(f"{row['where']}: {sid} was {row['status'] or 'not answered'}; Twilio never "
                               "fetched its TwiML, so it is left out")
            return
        steps.append((t0, order * 10, step))
        assumptions.append(f"{row['where']}: {sid} was {row['status']}; only its webhook is replayed")
        return
    steps.append((t0, order * 10, step))
    connected = t0 + timedelta(milliseconds=800)
    start = connected + timedelta(milliseconds=20)
    end = (row["end"] - origin) if row["end"] else t0 + timedelta(seconds=row["duration"])
    end = max(end, start + timedelta(milliseconds=40))
    media_us = (end - start - timedelta(milliseconds=20)) // timedelta(microseconds=1)
    steps.append((connected, order * 10 + 1, {"call": sid, "ws": "connected"}))
    steps.append((start, order * 10 + 2, {"call": sid, "ws": "start"}))
    steps.append((start + timedelta(milliseconds=20), order * 10 + 3,
                  {"call": sid, "ws": {"media": MEDIA_PATTERN}, "for": format_at(max(media_us, 20_000))}))
    steps.append((end, order * 10 + 4, {"call": sid, "ws": "stop"}))
