"""Hypothesis strategies for hostile scenario files and importer inputs.

Three families of scenario text: a valid skeleton with some values replaced by hostile YAML
fragments (reaches the deep loader checks and the replay), free YAML built from the format's
vocabulary (reaches the schema), and byte/line mutations of the shipped scenarios. Importer
inputs are capture JSON-Lines, application logs and Twilio call-export CSVs built the same way.

Each generator is a plain function of a ``random.Random``: the campaign calls them directly
(hundreds of inputs a second), the test suite wraps them as Hypothesis strategies seeded by
Hypothesis (:func:`as_strategy`), so a failing example is reproducible from its seed.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]

HOSTILE_SCALARS = [
    ".inf", "-.inf", ".nan", "1e400", "1.0e+30", "1.0e+12", "-1", "-0.0", "0", "1", "9" * 5000, "0x7fffffffffff",
    "0o777", "!!int", "!!float", "!!int ''", "!!binary aGVsbG8=", "!!set {a: null}", "!!omap [a: 1]",
    "!!python/object/apply:os.system [ls]", "!!python/name:os.system", "!!str", "~", "null", "[]", "{}", "''",
    '"\\ud800"', '"\\x01\\x02"', '"a\\u0000b"', "yes", "no", "on", "2026-01-08", "2026-01-08T10:00:00+02:00",
    "9999-12-31T23:59:59Z", '"+972501234567"', "0501234567", "+1 415 523 8886", "1s", "250ms", "1000h",
    "99999999999h", "1h30m", "3.5", "1e9", "-5s", "1.5.5s", '"' + "x" * 300 + '"', "*undefined", "<<", "=",
    '"CA1"', "CA1", "CA2", "start", "stop", "media", "connected", "close", "mark", "dtmf", "clean", "fixed",
    "legacy", "incoming_call", "/twiml/incoming/7", "/twiml/outbound/x", '"{{business_name}}"',
]
KEYS = ["name", "description", "tags", "seed", "clock", "start", "timezone", "pipeline", "profile", "businesses",
        "id", "phone", "channels", "settings", "ai_prompt", "outbound_ai_prompt", "steps", "at", "webhook", "params",
        "query", "method", "headers", "call", "ws", "media", "silence", "speech", "tone", "duration", "rms", "hz",
        "seed", "file", "payloads", "recording", "for", "repeat", "faults", "drop", "jitter", "gap", "duplicate",
        "reorder", "realtime", "respond", "cache", "invalidate", "clear", "business", "set", "expect", "finding",
        "severity", "at_least", "at_most", "detectors", "evidence", "limits", "media_step", "timeline", "event",
        "sequenceNumber", "streamSid", "callSid", "customParameters", "payload", "chunk", "timestamp", "CallSid",
        "From", "To", "Direction", "note", "x", "1", "<<", "? [a]", "!!python/name:os.system"]



def _chance(rnd: random.Random, n: int) -> bool:
    """True once in ``n``."""
    return rnd.randrange(n) == 0


def _float_text(rnd: random.Random) -> str:
    value = rnd.choice([rnd.uniform(-1e6, 1e6), rnd.random(), float("inf"), float("nan"), 1e308 * rnd.random(),
                        -rnd.random(), 5e-324])
    return {"inf": ".inf", "-inf": "-.inf", "nan": ".nan"}.get(repr(value), repr(value))


def _text(rnd: random.Random, size: int = 12) -> str:
    alphabet = "abcXYZ09 _-:{}[]#&*!|>'\"%@`,?\t\u05d0\u00e9\u2028\U0001f600\x85"
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(size + 1)))


def scalar(rnd: random.Random) -> str:
    kind = rnd.randrange(5)
    if kind <= 1:
        return rnd.choice(HOSTILE_SCALARS)
    if kind == 2:
        return str(rnd.randint(-(10 ** 20), 10 ** 20))
    if kind == 3:
        return _float_text(rnd)
    return json.dumps(_text(rnd))


def fragment(rnd: random.Random, depth: int = 3) -> str:
    """A YAML flow-style value: scalar, list or mapping, sometimes anchored or aliased."""
    kind = rnd.randrange(6) if depth > 0 else 0
    if kind <= 1:
        return scalar(rnd)
    if kind == 2:
        return "[" + ", ".join(fragment(rnd, depth - 1) for _ in range(rnd.randrange(5))) + "]"
    if kind == 3:
        return "{" + ", ".join(f"{rnd.choice(KEYS)}: {fragment(rnd, depth - 1)}" for _ in range(rnd.randrange(5))) + "}"
    if kind == 4:
        return rnd.choice(["&a ", "&b "]) + rnd.choice(["[", "{x: "]) + fragment(rnd, depth - 1) + \
            ("]" if rnd.random() < 0.5 else "}")
    return rnd.choice(["*a", "*b", "&a [*a]", "{<<: *a}", "{<<: [*a, *b]}"])


SKELETON = [
    ("name", "tiny"),
    ("businesses", '[{id: 1, name: A, phone: "+97231234567", settings: {ai_prompt: "Hi {{business_name}}"}}]'),
    ("steps", None),
    ("expect", "{fixed: [{finding: missing-prompt, at_most: 1}]}"),
]
FIRST_STEP = {"at": "0s", "webhook": "incoming_call",
              "params": '{CallSid: CA1, From: "+972501234567", To: "+97231234567", Direction: inbound}'}
LATER_STEPS = [
    {"at": "800ms", "call": "CA1", "ws": "connected"},
    {"at": "820ms", "call": "CA1", "ws": "start"},
    {"at": "840ms", "call": "CA1", "ws": "{media: [{speech: {duration: 1s, rms: 1500}}, {silence: 500ms}]}",
     "for": "3s", "faults": "{jitter: 5ms, drop: 0.1}"},
    {"at": "2s", "call": "CA1", "realtime": "{respond: {duration: 1s}}"},
    {"at": "3s", "call": "CA1", "ws": "{mark: m1}"},
    {"at": "4s", "settings": "{business: 1, set: {ai_prompt: changed}}"},
    {"at": "5s", "cache": "clear"},
    {"at": "6s", "call": "CA1", "ws": "stop"},
]


def skeleton_scenario(rnd: random.Random) -> str:
    """A valid scenario with a few values (or keys) replaced by hostile fragments."""
    rate = rnd.choice([0, 60, 25, 10])   # 0: no hostile value (a valid replay), else one field in N

    def value(default: str) -> str:
        return fragment(rnd, 2) if rate and _chance(rnd, rate) else default

    lines = []
    for key, default in SKELETON:
        if key == "steps":
            lines.append("steps:")
            for step in [FIRST_STEP] + LATER_STEPS:
                if rate and _chance(rnd, 4 * rate // 3 + 1):
                    continue
                fields = [f"{rnd.choice(KEYS) if rate and _chance(rnd, 4 * rate) else k}: {value(v)}"
                          for k, v in step.items()]
                if rate and _chance(rnd, rate + 5):
                    fields.append(f"{rnd.choice(KEYS)}: {fragment(rnd, 1)}")
                lines.append("  - {" + ", ".join(fields) + "}")
        elif not (rate and _chance(rnd, rate + 1)):
            lines.append(f"{key}: {value(default)}")
    if rate and _chance(rnd, 7):
        lines.append(f"{rnd.choice(KEYS)}: {fragment(rnd, 2)}")
    return "\n".join(lines) + "\n"


def free_scenario(rnd: random.Random) -> str:
    """Free YAML from the format's vocabulary."""
    pairs = [f"{rnd.choice(KEYS)}: {fragment(rnd, 3)}\n" for _ in range(rnd.randrange(7))]
    return "".join(pairs) or scalar(rnd) + "\n"


SHIPPED = [p.read_text(encoding="utf-8") for p in sorted((REPO / "scenarios").rglob("*.yaml"))]
MUTATION_CHARS = list(":-[]{}&*!|>'\"#%@`,?\t\x00\x01\x7f\u2028\ud7ff") + ["\\ud800", "\\x00"]


def mutated_shipped(rnd: random.Random) -> str:
    """A shipped scenario with a few line or character mutations."""
    lines = rnd.choice(SHIPPED).split("\n") if SHIPPED else ["name: x", "steps: []"]
    for _ in range(rnd.randint(1, 4)):
        op = rnd.choice(["delete", "duplicate", "swap", "char", "token", "truncate", "indent"])
        i = rnd.randrange(len(lines))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap" and len(lines) > 1:
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "char":
            pos = rnd.randint(0, len(lines[i]))
            lines[i] = lines[i][:pos] + rnd.choice(MUTATION_CHARS) + lines[i][pos:]
        elif op == "token":
            words = lines[i].split(" ")
            words[rnd.randrange(len(words))] = scalar(rnd)
            lines[i] = " ".join(words)
        elif op == "truncate":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: rnd.randint(0, len(lines[-1]))]
        elif op == "indent":
            lines[i] = rnd.choice(["  ", " ", "\t", ""]) + lines[i].lstrip()
    return "\n".join(lines)


def scenario_text(rnd: random.Random) -> str:
    return rnd.choice([skeleton_scenario, skeleton_scenario, free_scenario, mutated_shipped])(rnd)


# --- importer inputs -------------------------------------------------------------------------

def json_value(rnd: random.Random, depth: int = 2) -> object:
    kind = rnd.randrange(8 if depth > 0 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.random() < 0.5
    if kind == 2:
        return rnd.randint(-(2 ** 70), 2 ** 70)
    if kind == 3:
        return rnd.uniform(-1e9, 1e9)
    if kind == 4:
        return _text(rnd, 10)
    if kind == 5:
        return rnd.choice(["CA1", "+972501234567", "9" * 30, "inbound", "outbound-api", "1e400"])
    if kind == 6:
        return [json_value(rnd, depth - 1) for _ in range(rnd.randrange(4))]
    return {_text(rnd, 6): json_value(rnd, depth - 1) for _ in range(rnd.randrange(4))}


CAPTURE_FILES = sorted((REPO / "examples" / "captures").glob("*.jsonl"))
CAPTURE_LINES = CAPTURE_FILES[0].read_text(encoding="utf-8").splitlines()[:60] if CAPTURE_FILES else []
RECORD_TYPES = ["capture", "http.request", "http.response", "ws.open", "ws.in", "ws.out", "ws.close", "error"]
GOOD_FORM = {"CallSid": "CA1", "From": "+972501234567", "To": "+97231234567", "Direction": "inbound"}


def capture_record(rnd: random.Random) -> str:
    kind = rnd.choice(RECORD_TYPES)
    record: dict[str, object] = {"t_us": rnd.choice([rnd.randint(-1, 10 ** 7)] * 4 + [2 ** 63, 10 ** 30, "0", None,
                                                                                      1.5]), "type": kind}
    if kind == "capture":
        record.update(version=rnd.choice([1, 2, "1"]), call_sid=rnd.choice(["CA1", 5, None]),
                      started_at=rnd.choice(["2026-01-08T08:00:00+00:00", "9999-12-31T23:59:59+00:00", "x", 0]))
    elif kind == "http.request":
        record.update(method=rnd.choice(["POST", "GET", 1]),
                      path=rnd.choice(["/webhook/incoming_call", "/webhook/outbound_call", "/x", 3]),
                      form=rnd.choice([GOOD_FORM, GOOD_FORM, json_value(rnd)]),
                      query=rnd.choice([{}, json_value(rnd)]))
    elif kind == "http.response":
        record.update(status=rnd.choice([200, 500, "200", None]),
                      body=rnd.choice(['<Response><Connect><Stream url="wss://x"><Parameter name="a" value="b"/>'
                                       '</Stream></Connect></Response>', "<bad", "", 7]))
    elif kind in ("ws.in", "ws.out"):
        event = rnd.choice(["connected", "start", "media", "mark", "stop", "dtmf", "bogus"])
        msg: dict[str, object] = {"event": event, "streamSid": "MZ1", "sequenceNumber": rnd.choice(
            [str(rnd.randint(0, 5))] * 3 + ["9" * 40, "-1", "x", None, 10 ** 30])}
        if event == "start":
            msg["start"] = rnd.choice([{"callSid": "CA1", "streamSid": "MZ1", "customParameters": {}},
                                       {"callSid": "CA1", "customParameters": None}, {"callSid": {"a": 1}},
                                       json_value(rnd)])
        if event == "media":
            msg["media"] = rnd.choice([{"payload": "/" * 212, "timestamp": "20", "chunk": "1"},
                                       {"payload": "!!", "timestamp": "9" * 40}, json_value(rnd)])
        text = json.dumps(msg) if not _chance(rnd, 9) else _text(rnd, 20)
        record["text"] = rnd.choice([text, text, 5, None])
    else:
        record.update({rnd.choice(["path", "code", "reason", "text"]): json_value(rnd) for _ in range(2)})
    return json.dumps(record)


def capture_file(rnd: random.Random) -> str:
    if CAPTURE_LINES and rnd.random() < 0.5:
        lines = list(CAPTURE_LINES)
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(lines))
            op = rnd.choice(["delete", "replace", "insert", "corrupt"])
            if op == "delete" and len(lines) > 1:
                del lines[i]
            elif op == "replace":
                lines[i] = capture_record(rnd)
            elif op == "insert":
                lines.insert(i, capture_record(rnd))
            else:
                pos = rnd.randint(0, len(lines[i]))
                lines[i] = lines[i][:pos] + rnd.choice(['"', "}", "9999999999999999999999", "\\"]) + lines[i][pos:]
        return "\n".join(lines) + "\n"
    header = json.dumps({"type": "capture", "version": 1, "call_sid": "CA1", "started_at": "2026-01-08T08:00:00+00:00"})
    return "\n".join([header] + [capture_record(rnd) for _ in range(rnd.randrange(13))]) + "\n"


LOG_EVENTS = [
    "[GREETING_PROFILER] {route} START at 1767859200.000",
    "[WEBHOOK] {route} CallSid={sid} From={phone} To=+97231234567 Direction={direction}",
    "Created CallLog: {sid}, direction={direction}, twilio_direction={direction}, parent=None",
    "[T0] WS_START call_sid=pending",
    "[CALL_DIRECTION_SET] call_sid={sid8}... direction={direction}",
    "[CALL_START] call_sid={sid8}... biz={biz} direction={direction}",
    "[PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id={biz}",
    "[PROMPT_BIND] call_sid={sid8}... direction={direction} status=ok",
    "[BUILD 331] HARD LIMIT EXCEEDED! call_duration={num}s",
    "WS_STOP sid={sid}",
    "[CALL_END] call_sid={sid8}... duration={num}s",
]
STAMPS = ["2026-01-08 10:00:00,000", "9999-12-31 23:59:59,999", "0001-01-01 00:00:00,000", "2026-02-30 10:00:00,000",
          "2026-01-08 25:61:61,000"]


def log_file(rnd: random.Random) -> str:
    lines = []
    for _ in range(rnd.randint(1, 14)):
        stamp = rnd.choice(STAMPS) if _chance(rnd, 3) else \
            f"2026-01-08 10:{rnd.randrange(60):02d}:{rnd.randrange(60):02d},{rnd.randrange(1000):03d}"
        event = rnd.choice(LOG_EVENTS).format(
            route=rnd.choice(["incoming_call", "outbound_call"]),
            sid=rnd.choice(["CA1", "CA" + "1" * 32, "CA" + "2" * 32, "CAx"]),
            sid8=rnd.choice(["CA111111", "CA222222", "CA"]), phone=rnd.choice(["+972501234567", "0501234567", "x", ""]),
            direction=rnd.choice(["inbound", "outbound", "outbound-api", "sideways"]),
            biz=rnd.choice(["7", "0", "-1", "9" * 30, "x"]), num=rnd.choice(["1.5", "0", "inf", "nan", "1e400", "9" * 30]))
        lines.append(f"{stamp} {rnd.choice(['INFO', 'ERROR', 'x'])} routes_twilio: {event}")
    return "\n".join(lines) + "\n"


CSV_HEADER = ["Call Sid", "From", "To", "Direction", "Status", "Start Time", "End Time", "Duration"]


def twilio_call_csv(rnd: random.Random) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = list(CSV_HEADER)
    if _chance(rnd, 9):
        del header[rnd.randrange(len(header))]
    writer.writerow(header)
    for _ in range(rnd.randrange(6)):
        writer.writerow([
            rnd.choice(["CA" + "a1" * 16, "CA" + "b2" * 16] * 4 + ["CA1", "", "x" * 300]),
            rnd.choice(["+972501234567", "0501234567", "", "anonymous"]), rnd.choice(["+97231234567", "", "client:x"]),
            rnd.choice(["inbound", "outbound-api", "outbound-dial", "", "sideways"]),
            rnd.choice(["completed", "no-answer", "busy", "", "x"]),
            rnd.choice(["2026-01-08 10:00:00 +0200", "Thu, 08 Jan 2026 08:05:00 +0000"] * 4 +
                       ["9999-12-31 23:59:59 +0000", "0001-01-01 00:00:00 +0000", "x", ""]),
            rnd.choice(["2026-01-08 10:02:00 +0200", "2026-01-08 10:02:00 +0200", "", "x"]),
            rnd.choice(["120", "30", "0"] * 4 + ["-5", "inf", "nan", "1e400", "9" * 30, "", "1.5", "x"]),
        ][: len(header)])
    return buffer.getvalue()


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "scenario": scenario_text, "capture": capture_file, "logs": log_file, "twilio-calls": twilio_call_csv}


def as_strategy(generator: Callable[[random.Random], str]) -> st.SearchStrategy[str]:
    """The generator as a Hypothesis strategy (one seed drawn by Hypothesis, the rest from it)."""
    return st.integers(min_value=0, max_value=2 ** 63).map(lambda seed: generator(random.Random(seed)))
