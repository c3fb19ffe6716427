"""What counts as a failure for one hostile input, shared by the test suite and the campaign.

Every input ends in one of: ``ok`` (loaded, replayed, results written), ``located`` (a
CallReplayError of one line naming ``file:line`` or ``file:line path``), ``file-level`` (an importer
error about the whole file, naming it), and the failures: ``traceback`` (any other exception),
``unlocated`` (an error without file and line), ``imported-invalid`` (an importer wrote a
scenario that does not load).
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

from callreplay.errors import CallReplayError

FAILURES = ("traceback", "unlocated", "imported-invalid")
MAX_REPLAY_AUDIO_US = 60 * 1_000_000
_LOCATED = re.compile(r"^\d+[ :]")


@dataclass
class Verdict:
    kind: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


def located(message: str, file: Path) -> bool:
    """One line that starts ``<file>:<line>`` (then a YAML path or the message)."""
    prefix = str(file) + ":"
    if "\n" in message or not message.startswith(prefix):
        return False
    return bool(_LOCATED.match(message[len(prefix):]))


def _error_verdict(exc: BaseException, file: Path, *, file_level_ok: bool = False) -> Verdict:
    message = str(exc)
    if located(message, file):
        return Verdict("located", message)
    if file_level_ok and "\n" not in message and message.startswith(str(file) + ": "):
        return Verdict("file-level", message)
    return Verdict("unlocated", message)


def _audio_us(scenario) -> int:
    from callreplay.scenario.load import _pattern_us
    from callreplay.scenario.model import WsStep

    total = 0
    for step in scenario.steps:
        if isinstance(step, WsStep) and step.media is not None:
            media = step.media
            total += media.for_us if media.for_us is not None else _pattern_us(media) * media.repeat
    return total


def replay_and_write(scenario, out: Path) -> None:
    """What ``run`` does with one scenario: replay, detect, build and write the redacted result."""
    from callreplay.detectors import run_detectors
    from callreplay.detectors.base import Severity
    from callreplay.expectations import evaluate
    from callreplay.redact import redact, redact_text
    from callreplay.replay import replay
    from callreplay.results import build_result
    from callreplay.runner import _json_text

    profile = scenario.profiles_to_run()[0]
    if ":" in profile:
        profile = "fixed"
    result = replay(scenario, profile)
    findings = run_detectors(result, {})
    verdict = evaluate(scenario.expect.get(profile), profile, findings, Severity.ERROR)
    data = build_result(result, findings, verdict, slug="fuzz", trace_file="traces/fuzz.jsonl")
    (out / "result.json").write_text(_json_text(redact(data), sort_keys=True), encoding="utf-8")
    (out / "trace.jsonl").write_text(redact_text(result.trace.dumps()), encoding="utf-8")


def check_scenario(text: str, folder: Path, *, replay: bool = True) -> Verdict:
    """Load ``text`` as a scenario file in ``folder`` (and replay it when it loads and is short)."""
    from callreplay.scenario.load import load_scenario

    path = folder / "fuzz.yaml"
    try:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    except (UnicodeEncodeError, ValueError):
        return Verdict("skipped", "text not writable")
    try:
        scenario = load_scenario(path)
    except CallReplayError as exc:
        return _error_verdict(exc, path)
    except BaseException as exc:  # noqa: BLE001 (the oracle classifies every failure)
        if isinstance(exc, KeyboardInterrupt):
            raise
        return Verdict("traceback", "load: " + "".join(traceback.format_exception(exc))[-2000:])
    if not replay or _audio_us(scenario) > MAX_REPLAY_AUDIO_US:
        return Verdict("ok", "loaded")
    try:
        replay_and_write(scenario, folder)
    except CallReplayError as exc:
        return _error_verdict(exc, path)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return Verdict("traceback", "run: " + "".join(traceback.format_exception(exc))[-2000:])
    return Verdict("ok", "replayed")


IMPORTERS = {"capture": "capture.jsonl", "logs": "app.log", "twilio-calls": "calls.csv"}


def check_import(kind: str, text: str, folder: Path) -> Verdict:
    """Import ``text`` with one importer; a written scenario must then load (and replay when short)."""
    from callreplay.capture.importers.from_capture import import_capture
    from callreplay.capture.importers.from_logs import import_logs
    from callreplay.capture.importers.from_twilio_calls import import_twilio_calls

    source = folder / IMPORTERS[kind]
    source.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = folder / "imported" / "scenario.yaml"
    function = {"capture": import_capture, "logs": import_logs, "twilio-calls": import_twilio_calls}[kind]
    try:
        function([source], out, force=True)
    except CallReplayError as exc:
        return _error_verdict(exc, source, file_level_ok=True)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return Verdict("traceback", f"import {kind}: " + "".join(traceback.format_exception(exc))[-2000:])
    verdict = check_scenario(out.read_text(encoding="utf-8"), out.parent)
    if verdict.kind in ("located", "unlocated"):
        return Verdict("imported-invalid", verdict.detail)
    return verdict
