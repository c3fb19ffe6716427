"""A few seconds of the hostile-input campaign in every test run (``fuzz/campaign.py`` runs it long)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from fuzz.oracle import check_import, check_scenario
from fuzz.strategies import GENERATORS, as_strategy

FAST = settings(max_examples=80, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _assert_no_failure(verdict, text):
    assert not verdict.failed, f"{verdict.kind} for input:\n{text[:3000]}\n---\n{verdict.detail}"


@FAST
@given(as_strategy(GENERATORS["scenario"]))
def test_loader_validate_and_run_never_crash(text):
    with tempfile.TemporaryDirectory() as folder:
        _assert_no_failure(check_scenario(text, Path(folder)), text)


@FAST
@given(as_strategy(GENERATORS["capture"]))
def test_capture_import_never_crashes(text):
    with tempfile.TemporaryDirectory() as folder:
        _assert_no_failure(check_import("capture", text, Path(folder)), text)


@FAST
@given(as_strategy(GENERATORS["logs"]))
def test_log_import_never_crashes(text):
    with tempfile.TemporaryDirectory() as folder:
        _assert_no_failure(check_import("logs", text, Path(folder)), text)


@FAST
@given(as_strategy(GENERATORS["twilio-calls"]))
def test_twilio_calls_import_never_crashes(text):
    with tempfile.TemporaryDirectory() as folder:
        _assert_no_failure(check_import("twilio-calls", text, Path(folder)), text)
