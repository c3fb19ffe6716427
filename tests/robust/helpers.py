"""Minimal scenarios for the hostile-input tests, and a one-line check that an error is located."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

HEAD = """\
name: tiny
businesses: [{id: 1, name: A, phone: "+97231234567"}]
steps:
  - &hook {at: 0s, webhook: incoming_call, params: {CallSid: CA1, From: "+972501234567", To: "+97231234567", Direction: inbound}}
"""
GOOD = HEAD + """\
  - {at: 800ms, call: CA1, ws: connected}
  - {at: 820ms, call: CA1, ws: start}
  - {at: 840ms, call: CA1, ws: {media: {silence: 1s}}}
  - {at: 2s, call: CA1, ws: stop}
"""
LOCATED = re.compile(r"^\S+:\d+[ :]")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def is_located(message: str) -> bool:
    """``file:line[ path]: what`` on one line."""
    return "\n" not in message and bool(LOCATED.match(message))


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m callreplay ARGS`` importing this checkout (any PYTHONPATH already set comes after it)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "callreplay", *args], cwd=cwd or REPO, capture_output=True,
                          text=True, timeout=timeout, env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"})
