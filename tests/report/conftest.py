"""Fixtures: the incident scenario and an XSS scenario replayed once per session, each into its own folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callreplay.runner import RunOptions, run_all

REPO = Path(__file__).resolve().parents[2]
INCIDENT = REPO / "scenarios" / "incident" / "incident-inbound-gets-outbound-prompt.yaml"
XSS_NAME = ("xss <script>window.__xss=1;document.title='pwned'</script> "
            "\"><img src=x onerror=\"window.__xss=2\">")
XSS_YAML = r'''
name: "xss <script>window.__xss=1;document.title='pwned'</script> \"><img src=x onerror=\"window.__xss=2\">"
description: "desc <script>window.__xss=3</script> \"><img src=x onerror=window.__xss=4> caller +972501234567"
tags: [xss, "<script>window.__xss=5</script>"]
businesses:
  - id: 7
    name: "Biz <img src=x onerror=window.__xss=6>"
    phone: "+97231234567"
    settings:
      ai_prompt: ""
      outbound_ai_prompt: >-
        Sell <script>window.__xss=7</script> "><img src=x onerror=window.__xss=8>
        call +972501234567 now
steps:
  - at: 0s
    webhook: /twiml/incoming/7
    params: {CallSid: CA00000000000000000000000000000001, From: "+972501234567", To: "+97231234567", Direction: inbound}
  - {at: 800ms, call: CA00000000000000000000000000000001, ws: connected}
  - {at: 820ms, call: CA00000000000000000000000000000001, ws: start}
  - at: 840ms
    call: CA00000000000000000000000000000001
    ws: {media: [{speech: {duration: 2s, rms: 1500}}, {silence: 2s}]}
    for: 20s
  - {at: 30s, call: CA00000000000000000000000000000001, ws: stop}
expect:
  legacy:
    - {finding: direction-contamination}
  fixed: []
'''


def replay_into(paths: list[Path], report_dir: Path) -> Path:
    """Replay ``paths`` writing results and traces into ``report_dir`` (no HTML yet)."""
    run_all(paths, RunOptions(report_dir=report_dir), command="callreplay run (test)")
    return report_dir


@pytest.fixture(scope="session")
def incident_results(tmp_path_factory) -> Path:
    """Results of the incident scenario (legacy and fixed); copy before rendering into it."""
    return replay_into([INCIDENT], tmp_path_factory.mktemp("incident") / "reports")


@pytest.fixture(scope="session")
def xss_results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("xss")
    (folder / "xss.yaml").write_text(XSS_YAML, encoding="utf-8")
    return replay_into([folder / "xss.yaml"], folder / "reports")


@pytest.fixture
def incident_copy(incident_results, tmp_path) -> Path:
    target = tmp_path / "reports"
    shutil.copytree(incident_results, target)
    return target


@pytest.fixture
def xss_copy(xss_results, tmp_path) -> Path:
    target = tmp_path / "reports"
    shutil.copytree(xss_results, target)
    return target
