"""Trace and behaviour agree for every value of the prompt-check policies (issue 11's two divergences).

Each test replays a small call under a built-in profile with one policy value changed, then reads
both what the trace *says* (``prompt.mismatch_check`` / ``prompt.missing``) and what the model *did*
(the prompt the session was bound to, the cache reads, the call's end).
"""

from __future__ import annotations

import pytest

from callreplay.pipeline.policies import MISMATCH_ACTIONS, MISSING_ACTIONS, FullCheck, MetadataCheck, SubstringCheck
from callreplay.pipeline.profiles import FIXED, HARDENED, LEGACY
from callreplay.replay import replay
from callreplay.testing import BUSINESS_PHONE, CALLER, INBOUND_SID, business, inbound_call, scenario_from_dict

OUTBOUND_SCRIPT = "אתה מתקשר מטעם {{business_name}} כדי להציע חבילת שירות חדשה ללקוח."


def _missing_scenario(tmp_path):
    """An inbound call of a business with no prompts at all: builder A yields nothing, so nothing is parked."""
    return scenario_from_dict({"name": "missing", "businesses": [business(1, ai_prompt="", outbound_ai_prompt="")],
                               "steps": inbound_call()}, tmp_path)


def _mismatch_scenario(tmp_path):
    """The webhook parks the inbound prompt; the stream's start says the call is outbound."""
    steps = inbound_call()
    steps[2] = {"at": 0.82, "call": INBOUND_SID, "ws": {"start": {"customParameters": {
        "CallSid": INBOUND_SID, "From": CALLER, "To": BUSINESS_PHONE, "business_id": "1", "direction": "outbound"}}}}
    return scenario_from_dict({"name": "mismatch", "businesses": [business(1, outbound_ai_prompt=OUTBOUND_SCRIPT)],
                               "steps": steps}, tmp_path)


def _looks_outbound_scenario(tmp_path):
    """An inbound call whose own prompt mentions 'outbound': the HARD LOCK heuristic flags a mismatch."""
    prompt = "You answer inbound calls; never mention the outbound campaign."
    return scenario_from_dict({"name": "looks-outbound", "businesses": [business(1, ai_prompt=prompt)],
                               "steps": inbound_call()}, tmp_path)


def _events(result, kind):
    return [e for e in result.trace.events if e.kind == kind and e.call == INBOUND_SID]


def _bound(result):
    """The prompt.built event of the prompt the session was bound to (None: the call never bound one)."""
    loaded = _events(result, "prompt.loaded")
    if not loaded:
        return None
    built = {e.data["prompt_id"]: e for e in _events(result, "prompt.built")}
    return built[loaded[0].data["prompt_id"]]


@pytest.mark.parametrize("action", MISSING_ACTIONS)
@pytest.mark.parametrize("base", [LEGACY, FIXED, HARDENED], ids=lambda p: p.name)
def test_missing_prompt_trace_and_behaviour_agree(action, base, tmp_path):
    result = replay(_missing_scenario(tmp_path), base.with_(name="probe", missing_prompt=action))
    (missing,) = _events(result, "prompt.missing")
    assert missing.data["action"] == action
    after = [e for e in result.trace.events if e.seq > missing.seq and e.call == INBOUND_SID]
    cache_reads = [e for e in after if e.kind == "cache.get"]
    bound = _bound(result)
    if action == "ws-greeting-fallback":
        assert bound.data["builder"] == "ws-fallback" and not cache_reads
    elif action in ("rebuild-cached", "rebuild-uncached"):
        assert bool(cache_reads) == (action == "rebuild-cached")
        if base.builders.on_blank("inbound") == "raise":  # hardened builders refuse the blank body
            assert bound is None and _events(result, "prompt.failed")
        else:
            assert bound.data["builder"] == "B/C" and bound.data["path"] == "rebuild"
    else:  # fail: no improvised prompt is ever bound, the call ends
        assert bound is None and not cache_reads
        assert _events(result, "prompt.failed")
        assert not [e for e in _events(result, "prompt.built") if e.data["fallback"] == "generic-template"]


def test_missing_prompt_fail_under_fixed_no_longer_binds_a_template(tmp_path):
    """Divergence 1: ``missing_prompt = "fail"`` used to bind a generic template while the trace said fail."""
    result = replay(_missing_scenario(tmp_path), FIXED.with_(name="probe", missing_prompt="fail"))
    assert [e.data["action"] for e in _events(result, "prompt.missing")] == ["fail"]
    assert _bound(result) is None
    (ended,) = _events(result, "call.ended")
    assert ended.data["reason"] == "missing_prompt"


@pytest.mark.parametrize("action", MISMATCH_ACTIONS)
@pytest.mark.parametrize("check", [SubstringCheck, MetadataCheck, FullCheck], ids=lambda c: c.__name__)
def test_mismatch_trace_and_behaviour_agree(action, check, tmp_path):
    profile = FIXED.with_(name="probe", prompt_check=check(on_mismatch=action, on_missing="rebuild-cached"))
    scenario = (_looks_outbound_scenario if check is SubstringCheck else _mismatch_scenario)(tmp_path)
    result = replay(scenario, profile)
    (checked,) = _events(result, "prompt.mismatch_check")
    assert checked.data["mismatch"] is True and checked.data["action"] == action
    bound = _bound(result)
    if action == "continue":
        assert bound.data["prompt_id"] == checked.data["prompt_id"]      # the parked prompt itself
    else:
        assert bound.data["prompt_id"] != checked.data["prompt_id"] and bound.data["path"] == "rebuild"
        assert bound.data["requested_direction"] == checked.data["expected"]


def test_mismatch_continue_on_fixed_is_honoured(tmp_path):
    """Divergence 2: a Fixed subclass with ``mismatch_action = "continue"`` used to rebuild, saying rebuild."""
    result = replay(_mismatch_scenario(tmp_path), FIXED.with_(name="probe", mismatch_action="continue"))
    (checked,) = _events(result, "prompt.mismatch_check")
    assert (checked.data["method"], checked.data["action"]) == ("metadata", "continue")
    assert _bound(result).data["prompt_id"] == checked.data["prompt_id"]
    assert not [e for e in _events(result, "prompt.built") if e.data["path"] == "rebuild"]


def test_a_matching_prompt_is_bound_under_every_check(tmp_path):
    scenario = scenario_from_dict({"name": "match", "businesses": [business(1)], "steps": inbound_call()}, tmp_path)
    for check in (SubstringCheck(), MetadataCheck(), FullCheck()):
        result = replay(scenario, FIXED.with_(name="probe", prompt_check=check))
        (checked,) = _events(result, "prompt.mismatch_check")
        assert (checked.data["method"], checked.data["mismatch"], checked.data["action"]) == (check.name, False, "bind")
        assert _bound(result).data["prompt_id"] == checked.data["prompt_id"]
