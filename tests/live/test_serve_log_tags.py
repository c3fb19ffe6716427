"""Live against ``callreplay serve``: the log-tag detectors read the stand-in server's own log lines.

``serve`` prints the model's log lines as the pipeline it models does; ``exec`` captures them. The
English-outbound incident, cut to a few seconds, logs ``[PROMPT_MISMATCH] ... action=CONTINUE_NO_REBUILD``
under ``legacy`` (mismatch-ignored must fire, from the log) and rebuilds under
``option3-rebuild-on-mismatch`` (it must stay silent), as the in-process replays of the same file do.
"""

from __future__ import annotations

import json
import sys

import pytest
from helpers import ROOT, at_once, findings, run_cli, shortened

pytestmark = pytest.mark.live

INCIDENT = ROOT / "scenarios" / "incident" / "incident-english-outbound.yaml"
SID = "CA2b8e4f6a0c1d3e5f7a9b1c3d5e7f9a0b"


def short_incident(tmp_path):
    # the check runs when the stream starts; the rest is the same call
    return shortened(INCIDENT, tmp_path, "3s", "4s")


def live_against_serve(tmp_path, scenario, profile):
    out = tmp_path / f"{profile}.json"
    done = run_cli("exec", "-s", str(scenario), "--report-dir", str(tmp_path / profile), "--no-html", "--json",
                   str(out), "--", sys.executable, "-m", "callreplay", "serve", "--profile", profile,
                   "--scenario", str(scenario), "--listen", "127.0.0.1:{port}")
    assert out.exists(), done.stdout + done.stderr
    [result] = json.loads(out.read_text())["results"]
    return result, done.stdout + done.stderr


def test_mismatch_ignored_is_read_from_the_servers_log_and_silent_when_it_rebuilds(tmp_path):
    scenario = short_incident(tmp_path)
    (kept, output), (rebuilt, rebuilt_output) = at_once(
        lambda: live_against_serve(tmp_path, scenario, "legacy"),
        lambda: live_against_serve(tmp_path, scenario, "option3-rebuild-on-mismatch"))
    [finding] = findings(kept, "mismatch-ignored")
    assert finding["call"] == SID and finding["details"]["source"] == "server-log", output
    assert "action=CONTINUE_NO_REBUILD" in finding["evidence"][0]["text"]
    assert findings(kept, "cross-direction-fallback")  # the builder's [PROMPT FALLBACK] line, read the same way
    assert not findings(rebuilt, "mismatch-ignored"), rebuilt_output
