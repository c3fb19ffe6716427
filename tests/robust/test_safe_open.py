"""Side files are opened safely at replay time: no symlink escape, regular files only, size checked."""

from __future__ import annotations

import os
import threading
import wave

import pytest

from callreplay.errors import ScenarioError
from callreplay.replay import replay
from callreplay.safe_open import UnsafeFileError, open_side_file, read_side_file
from callreplay.scenario.load import load_scenario

from .helpers import HEAD, write


def _wav(path, seconds=0.2):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(8000)
        out.writeframes(b"\x10\x00" * int(8000 * seconds))


def _scenario_with_wav(folder):
    _wav(folder / "a.wav")
    return write(folder, "s.yaml", HEAD + "  - {at: 1s, call: CA1, ws: start}\n"
                 "  - {at: 2s, call: CA1, ws: {media: {file: a.wav}}}\n  - {at: 3s, call: CA1, ws: stop}\n")


def test_a_regular_file_inside_the_folder_opens(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.bin").write_bytes(b"abc")
    assert read_side_file(tmp_path / "sub" / "x.bin", tmp_path) == b"abc"
    assert read_side_file("sub/x.bin", tmp_path) == b"abc"


def test_a_file_swapped_for_a_symlink_after_load_is_refused_at_replay(tmp_path):
    folder = tmp_path / "scn"
    folder.mkdir()
    scenario = load_scenario(_scenario_with_wav(folder))
    outside = tmp_path / "secret.wav"
    _wav(outside)
    (folder / "a.wav").unlink()
    (folder / "a.wav").symlink_to(outside)
    with pytest.raises(ScenarioError, match=r"s.yaml:\d+ steps\[2\].ws.media: .*symbolic link"):
        replay(scenario, "fixed")


def test_a_symlinked_folder_below_the_scenario_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "x.bin").write_bytes(b"abc")
    (tmp_path / "scn").mkdir()
    (tmp_path / "scn" / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeFileError, match="without following a link"):
        open_side_file(tmp_path / "scn" / "link" / "x.bin", tmp_path / "scn")


def test_paths_outside_the_folder_are_refused(tmp_path):
    with pytest.raises(UnsafeFileError, match="not inside"):
        open_side_file("/etc/passwd", tmp_path)
    with pytest.raises(UnsafeFileError):
        open_side_file(tmp_path / ".." / "x", tmp_path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    outcome = []

    def attempt():
        try:
            open_side_file(tmp_path / "pipe", tmp_path)
        except UnsafeFileError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "opening a FIFO hung"
    assert outcome and "not a regular file" in outcome[0]


def test_a_device_behind_a_link_is_refused(tmp_path):
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        open_side_file(tmp_path / "zero", tmp_path)


def test_a_file_larger_than_the_limit_is_refused_and_the_limit_can_be_raised(tmp_path):
    folder = tmp_path / "scn"
    folder.mkdir()
    path = _scenario_with_wav(folder)
    text = path.read_text() + "limits: {side_file_bytes: 100}\n"
    with pytest.raises(ScenarioError, match="more than the limit of 100"):
        replay(load_scenario(write(folder, "small.yaml", text)), "fixed")
    replay(load_scenario(path), "fixed")
