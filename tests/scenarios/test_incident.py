"""The incident and its variants: the exact findings, the figures the spec gives, and the trace's log lines."""

from __future__ import annotations

from collections import Counter

import pytest
from shipped import replayed

from callreplay.durations import US_PER_S

INCIDENT = "incident/incident-inbound-gets-outbound-prompt.yaml"
CALLS = [f"CA{n:032d}" for n in (1, 2, 3)]
TTL = 600 * US_PER_S


def by(findings, detector):
    return [f for f in findings if f.detector == detector]


def test_legacy_yields_exactly_the_incident_findings():
    _, findings = replayed(INCIDENT, "legacy")
    counts = Counter((f.detector, f.severity.value) for f in findings)
    assert counts == {("cross-direction-fallback", "warning"): 3, ("direction-contamination", "error"): 3,
                      ("prompt-outlived-ttl", "warning"): 1, ("contamination-persisted", "error"): 1}
    assert sorted(f.call for f in by(findings, "direction-contamination")) == CALLS
    assert sorted(f.call for f in by(findings, "cross-direction-fallback")) == CALLS
    assert all(f.details["path"] == "prebuild" for f in by(findings, "cross-direction-fallback"))
    for f in by(findings, "direction-contamination"):
        assert f.details["proofs"] == ["provenance", "content"]


def test_first_call_prompt_outlives_the_ttl_by_the_spec_figure():
    """Built at 50 ms (pre-build latency); the sender starts at ~1.32 s (start 0.82 s + 0.4 s OpenAI connect +
    0.1 s session.updated); the 600 s hard limit trips at the first frame after 601.32 s. The prompt is then
    ~601.3 s old: ~1.3 s past the TTL."""
    result, findings = replayed(INCIDENT, "legacy")
    (f,) = by(findings, "prompt-outlived-ttl")
    assert f.call == CALLS[0] and f.severity.value == "warning"
    assert f.details["built_at_us"] == 50_000
    limit = next(e for e in result.trace.of_kind("call.hard_limit") if e.call == CALLS[0])
    assert limit.data["sender_start_us"] == pytest.approx(1_320_000, abs=20_000)
    assert limit.data["at_us"] == pytest.approx(601_320_000, abs=40_000)
    age = f.details["used_until_us"] - f.details["built_at_us"]
    assert age == pytest.approx(601.3 * US_PER_S, abs=0.1 * US_PER_S)
    assert f.details["outlived_us"] == pytest.approx(1.3 * US_PER_S, abs=0.1 * US_PER_S)
    assert f.details["stale_at_us"] is None
    # calls 2 and 3 end (stop) before their prompts reach the TTL
    assert not [x for x in findings if x.detector == "prompt-outlived-ttl" and x.call != CALLS[0]]


def test_contamination_persists_about_25_minutes_more_than_15_past_the_ttl():
    _, findings = replayed(INCIDENT, "legacy")
    (f,) = by(findings, "contamination-persisted")
    assert f.details["first_call"] == CALLS[0] and f.details["last_call"] == CALLS[2]
    assert 24.5 * 60 * US_PER_S < f.details["span_us"] < 25.5 * 60 * US_PER_S
    assert f.details["past_ttl_us"] > 15 * 60 * US_PER_S


def test_legacy_trace_shows_the_chain():
    result, _ = replayed(INCIDENT, "legacy")
    trace = result.trace
    for sid in CALLS:
        tag = "[PROMPT FALLBACK] Using outbound prompt as fallback for inbound business_id=7"
        fallback = [e for e in trace.logs(tag) if e.call == sid]
        assert len(fallback) == 2, sid  # the webhook pre-build and the WS's dead PART D build
        assert {e.component for e in fallback} == {"prompt_builder"}
        assert [e for e in trace.logs(f"[PROMPT_BIND] call_sid={sid[:8]}... direction=inbound status=MATCHED")
                if e.call == sid]
        assert not [e for e in trace.logs("[PROMPT_MISMATCH]") if e.call == sid]
        built = [e for e in trace.of_kind("prompt.built") if e.call == sid and e.data["path"] == "prebuild"]
        assert [(e.data["source_field"], e.data["requested_direction"]) for e in built] == [
            ("outbound_ai_prompt", "inbound")]
    assert trace.logs("HARD LIMIT") or trace.of_kind("call.hard_limit")


def test_fixed_trace_shows_the_fix_path():
    result, findings = replayed(INCIDENT, "fixed")
    trace = result.trace
    for sid in CALLS:
        assert [e for e in trace.logs("[PROMPT] Failed to pre-build inbound prompt") if e.call == sid]
        assert [e for e in trace.logs("Pre-built FULL prompt not found in registry - building fresh from DB")
                if e.call == sid]
    sent = [e.data["instructions"] for e in trace.of_kind("realtime.session_update")]
    assert len(sent) == 3 and all("You are a professional service representative for" in s for s in sent)
    assert not trace.logs("[PROMPT FALLBACK] Using outbound prompt")
    assert not by(findings, "direction-contamination")


def test_raised_limit_one_call_outlives_the_ttl_for_about_25_minutes():
    name = "incident/incident-raised-limit.yaml"
    _, findings = replayed(name, "legacy")
    (f,) = by(findings, "prompt-outlived-ttl")
    assert f.severity.value == "warning"
    used = f.details["used_until_us"] - f.details["built_at_us"]
    assert 24.9 * 60 * US_PER_S < used < 25.2 * 60 * US_PER_S
    assert f.details["outlived_us"] > 14.9 * 60 * US_PER_S
    assert f.details["turns_after_ttl"] > 100
    assert by(findings, "direction-contamination")


def test_option3_does_not_notice_the_hebrew_script_but_rebuilds_on_the_english_one():
    hebrew, hebrew_findings = replayed(INCIDENT, "option3-rebuild-on-mismatch")
    checks = hebrew.trace.of_kind("prompt.mismatch_check")
    assert [c.data["mismatch"] for c in checks] == [False, False, False]
    assert len(by(hebrew_findings, "direction-contamination")) == 3
    english, english_findings = replayed("incident/incident-english-outbound.yaml", "option3-rebuild-on-mismatch")
    (check,) = english.trace.of_kind("prompt.mismatch_check")
    assert (check.data["mismatch"], check.data["action"]) == (True, "rebuild")
    assert english.trace.logs("action=REBUILD")
    assert not by(english_findings, "direction-contamination")
    legacy, legacy_findings = replayed("incident/incident-english-outbound.yaml", "legacy")
    assert legacy.trace.logs("expected=inbound prebuilt=outbound action=CONTINUE_NO_REBUILD")
    assert by(legacy_findings, "mismatch-ignored")


def test_fix_options_each_close_or_leave_the_hole():
    for profile in ("option1-no-fallback", "option2-guard-store"):
        _, findings = replayed(INCIDENT, profile)
        assert not by(findings, "direction-contamination"), profile
        assert len(by(findings, "missing-prompt")) == 3, profile
    _, findings = replayed(INCIDENT, "option2-guard-store")
    assert len(by(findings, "cross-direction-fallback")) == 3  # the fallback still happens; it is just not parked
