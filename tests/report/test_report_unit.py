"""Pure helpers of the report: outcome labels, instruction segments, timeline geometry, time labels."""

from __future__ import annotations

from callreplay.pipeline.prompt_text import builder_a_layout, universal_rules
from callreplay.report.compare import profile_comparison
from callreplay.report.instructions import segments
from callreplay.report.status import is_expected, outcome_of
from callreplay.report.timeline import axis_label


def test_outcome_expected_error_findings_is_its_own_label():
    assert outcome_of("pass", {"error": 4, "warning": 4}).label == "expected findings: pass"
    assert outcome_of("pass", {"error": 0, "warning": 5}).label == "pass"
    assert outcome_of("fail", {"error": 1}).key == "fail"
    assert outcome_of("error", None).key == "error"
    assert len({outcome_of(s, {"error": e}).key for s, e in [("pass", 1), ("pass", 0), ("fail", 1)]}) == 3


def test_is_expected_matches_detector_call_and_severity():
    verdict = {"entries": [{"finding": "prompt-outlived-ttl", "call": "CA1", "severity": "warning"}]}
    assert is_expected(verdict, {"detector": "prompt-outlived-ttl", "call": "CA1", "severity": "warning"})
    assert not is_expected(verdict, {"detector": "prompt-outlived-ttl", "call": "CA2", "severity": "warning"})
    assert not is_expected(None, {"detector": "x"})


def test_segments_cover_the_text_and_name_each_source():
    text = builder_a_layout(universal_rules("inbound"), "\n\nAPPOINTMENT SCHEDULING (STRICT, technical): x.", 7,
                            "Biz", "INBOUND", "Sell cars.", "inbound")
    segs = segments(text, "business prompt: from outbound_ai_prompt", True)
    assert "".join(s.text for s in segs) == text
    assert [s.source for s in segs] == ["rules", "appointment", "header", "body", "footer"]
    body = next(s for s in segs if s.source == "body")
    assert body.text.strip() == "Sell cars." and body.flagged


def test_segments_of_unknown_text_is_other():
    assert [(s.source, s.text) for s in segments("hello")] == [("other", "hello")]


def test_axis_label():
    assert [axis_label(us) for us in (0, 61_000_000, 3_725_000_000)] == ["0:00", "1:01", "1:02:05"]


def test_profile_comparison_names_vanished_findings():
    legacy = {"profile": {"name": "legacy"}, "findings": [{"detector": "d", "severity": "error", "call": "CA1"}]}
    fixed = {"profile": {"name": "fixed"}, "findings": []}
    names, rows = profile_comparison(legacy, [fixed])
    assert names == ["legacy", "fixed"]
    assert rows == [{"detector": "d", "severity": "error", "call": "CA1", "count: legacy": 1, "count: fixed": 0,
                     "change": "only in legacy; vanishes in fixed"}]
