"""Does live mode see what the in-process replay sees? One scenario, both targets, the findings compared.

The same scenario is replayed in-process under a profile and live against ``callreplay serve`` under
that profile (started by ``callreplay exec``). Only detectors that can run on a live trace are
compared (the others read model internals a server never shows); a finding is its
(detector, call, severity). The test suite runs a representative subset; ``benchmarks/
live_equivalence.py`` runs every shipped scenario short enough for the wall clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..detectors import run_detectors
from ..detectors.base import Needs
from ..detectors.registry import all_detectors
from ..replay import replay
from ..scenario.load import load_scenario

Key = tuple[str, str | None, str]
EXEC_TIMEOUT_S = 300


@dataclass(frozen=True)
class Comparison:
    scenario: str
    profile: str
    in_process: frozenset[Key]
    live: frozenset[Key]
    output: str = ""

    @property
    def equal(self) -> bool:
        return self.in_process == self.live


# Wire detectors whose input only the live driver writes (the speech spans of the caller audio it sends):
# in-process they have nothing to read, so comparing them would compare the inputs, not the findings.
LIVE_INPUT_ONLY = frozenset({"caller-audio-dropped"})


def wire_detectors() -> set[str]:
    return {d_id for d_id, d in all_detectors().items()
            if set(getattr(d, "needs", {Needs.MODEL})) <= {Needs.WIRE} and d_id not in LIVE_INPUT_ONLY}


def in_process_findings(path: Path, profile: str) -> frozenset[Key]:
    wire = wire_detectors()
    scenario = load_scenario(path)
    found = run_detectors(replay(scenario, profile))
    return frozenset((f.detector, f.call, f.severity.value) for f in found if f.detector in wire)


def start_live(path: Path, profile: str, workdir: Path, cwd: Path | None = None) -> tuple[subprocess.Popen, Path]:
    """``callreplay exec`` of the scenario against ``callreplay serve --profile``; returns (process, json path)."""
    out = workdir / f"{path.stem}--{profile}.json"
    argv = [sys.executable, "-m", "callreplay", "exec", "-s", str(path), "--report-dir", str(workdir / "reports"),
            "--no-html", "-q", "--json", str(out), "--", sys.executable, "-m", "callreplay", "serve", "--profile",
            profile, "--scenario", str(path), "--listen", "127.0.0.1:{port}"]
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, out


def live_findings(process: subprocess.Popen, out: Path) -> tuple[frozenset[Key], str]:
    output, _ = process.communicate(timeout=EXEC_TIMEOUT_S)
    if not out.exists():
        raise RuntimeError(f"the live run wrote no results:\n{output}")
    results = json.loads(out.read_text())["results"]
    wire = wire_detectors()
    keys = frozenset((f["detector"], f["call"], f["severity"]) for r in results for f in r["findings"]
                     if f["detector"] in wire)
    return keys, output


def compare_many(pairs: list[tuple[Path, str]], *, parallel: int = 2, cwd: Path | None = None) -> list[Comparison]:
    """Compare each (scenario file, profile); ``parallel`` live runs at a time (they run on the wall clock)."""
    out: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="callreplay-equivalence-") as tmp:
        pending = list(pairs)
        while pending:
            batch, pending = pending[:parallel], pending[parallel:]
            started = [(path, profile, *start_live(path, profile, Path(tmp), cwd)) for path, profile in batch]
            for path, profile, process, result in started:
                live, output = live_findings(process, result)
                out.append(Comparison(load_scenario(path).name, profile, in_process_findings(path, profile), live,
                                      output))
    return out
