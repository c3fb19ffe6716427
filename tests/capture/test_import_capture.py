"""Importing captures: redaction, audio modes, runs and faults, determinism, no clobbering."""

from __future__ import annotations

import re

import numpy as np
import pytest

from callreplay.audio.mulaw import frame_rms
from callreplay.audio.sources import wav_file
from callreplay.capture.importers.from_capture import import_capture
from callreplay.errors import ImportFormatError
from callreplay.replay import replay
from callreplay.report import render_reports
from callreplay.runner import RunOptions, run_all
from callreplay.scenario.load import load_scenario

from .helpers import API_KEY, AUTH_TOKEN, SIGNATURE, write_capture
from .refapp import BUSINESS_PHONE, CALLER

SID_A = "CA" + "1a" * 16
SID_B = "CA" + "2b" * 16


def _digit_windows(number: str, width: int = 6) -> set[str]:
    digits = re.sub(r"\D", "", number)
    return {digits[i:i + width] for i in range(len(digits) - width + 1)}


def test_defaults_leave_no_phone_digits_or_tokens_anywhere(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_capture(a, SID_A)
    write_capture(b, SID_B, caller="050-123-4567", t0_us=5_000_000)  # the local form of the same caller
    out = tmp_path / "out" / "call.yaml"
    import_capture([a, b], out)
    result = replay(load_scenario(out), "legacy")
    texts = {p.name: p.read_bytes().decode("latin-1") for p in out.parent.iterdir()}
    texts["trace"] = result.trace.dumps()
    reports = tmp_path / "reports"  # and everything `callreplay run` writes: results, traces, HTML, CSV
    run_all([out], RunOptions(report_dir=reports, profiles=["legacy"]))
    render_reports(reports)
    texts.update({str(p.relative_to(reports)): p.read_text(encoding="utf-8")
                  for p in reports.rglob("*") if p.is_file()})
    assert any(name.endswith(".html") and name != "index.html" for name in texts)
    secrets = {AUTH_TOKEN, API_KEY, SIGNATURE, "Basic "}
    windows = _digit_windows(CALLER) | _digit_windows(BUSINESS_PHONE) | _digit_windows("0501234567")
    for name, text in texts.items():
        for secret in secrets:
            assert secret not in text, (name, secret)
        leaked = {w for w in windows if w in text}
        assert not leaked, (name, leaked)
    scenario = out.read_text()
    # stable pseudonyms across the files of the set: both calls come from the same caller
    froms = re.findall(r'"From": "(\+1555\d{7})"', scenario)
    assert len(froms) == 4 and len(set(froms)) == 1  # webhook params and start customParameters


def test_envelope_audio_keeps_every_frame_rms(tmp_path):
    frames = write_capture(tmp_path / "a.jsonl", SID_A, seconds=2.0)
    out = tmp_path / "o" / "env.yaml"
    import_capture([tmp_path / "a.jsonl"], out, audio="envelope")
    wav = out.parent / f"env-{SID_A}-001.wav"
    synthetic = wav_file(wav)
    original = np.frombuffer(b"".join(frames), dtype=np.uint8).reshape(-1, 160)
    assert synthetic.shape == original.shape
    assert not np.array_equal(synthetic, original)
    assert np.abs(frame_rms(synthetic) - frame_rms(original)).max() <= 2


def test_audio_none_writes_no_media_and_says_so(tmp_path):
    write_capture(tmp_path / "a.jsonl", SID_A)
    out = tmp_path / "o" / "none.yaml"
    import_capture([tmp_path / "a.jsonl"], out, audio="none")
    text = out.read_text()
    assert '"media"' not in text and "--audio none" in text
    assert not list(out.parent.glob("*.wav"))


def test_gap_and_sequence_skip_split_runs_and_keep_the_fault(tmp_path):
    frames = write_capture(tmp_path / "a.jsonl", SID_A, seconds=2.0, media_gap_after=30, seq_skip_at=60)
    out = tmp_path / "o" / "faults.yaml"
    import_capture([tmp_path / "a.jsonl"], out, audio="keep")
    wavs = sorted(p.name for p in out.parent.glob("*.wav"))
    assert wavs == [f"faults-{SID_A}-00{i}.wav" for i in (1, 2, 3)]
    text = out.read_text()
    assert text.count('"event": "media"') == 1  # the frame after the skip, verbatim
    result = replay(load_scenario(out), "legacy", keep_audio=True)
    received = result.app.sockets[SID_A].handler.session.received
    assert b"".join(received) == b"".join(frames)
    problems = [e.data["problem"] for e in result.trace.of_kind("ws.protocol")]
    assert "seq-skip" in problems


def test_importing_twice_gives_identical_files(tmp_path):
    write_capture(tmp_path / "a.jsonl", SID_A)
    outputs = []
    for run in ("one", "two"):
        out = tmp_path / run / "same.yaml"
        import_capture([tmp_path / "a.jsonl"], out)
        outputs.append({p.name: p.read_bytes() for p in sorted(out.parent.iterdir())})
    assert outputs[0] == outputs[1]


def test_existing_output_is_not_overwritten_without_force(tmp_path):
    write_capture(tmp_path / "a.jsonl", SID_A)
    out = tmp_path / "o" / "x.yaml"
    out.parent.mkdir()
    out.write_text("mine\n")
    with pytest.raises(ImportFormatError, match="exists and would be overwritten"):
        import_capture([tmp_path / "a.jsonl"], out)
    assert out.read_text() == "mine\n"
    assert [p.name for p in out.parent.iterdir()] == ["x.yaml"]  # no staged leftovers, no WAVs
    import_capture([tmp_path / "a.jsonl"], out, force=True)
    assert out.read_text().startswith("# Imported")


def test_template_businesses_are_marked_and_load(tmp_path):
    write_capture(tmp_path / "a.jsonl", SID_A)
    out = tmp_path / "o" / "t.yaml"
    import_capture([tmp_path / "a.jsonl"], out)
    text = out.read_text()
    assert "# TEMPLATE: fill in" in text and "assumptions:" in text
    scenario = load_scenario(out)
    assert [b.id for b in scenario.businesses] == [7]
    assert scenario.businesses[0].phone.startswith("+1555")
