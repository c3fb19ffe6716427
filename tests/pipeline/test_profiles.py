"""Profiles are frozen, validated compositions, and every profile goes through one registry."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass

import pytest

from callreplay.errors import ProfileError
from callreplay.pipeline.policies import MetadataCheck, SpecDirection, SubstringCheck, WaitForPrebuild
from callreplay.pipeline.profiles import (
    BUILTINS,
    FIXED,
    LEGACY,
    MUTANTS,
    REGISTRY,
    SEAMS,
    SWITCHES,
    ProfileRegistry,
    load_profile,
    profile_names,
)
from callreplay.runner import RunOptions, run_all
from callreplay.testing import business, inbound_call, scenario_from_dict

HERE = __file__


def _line_of(text: str) -> int:
    with open(HERE, encoding="utf-8") as fh:
        return next(i for i, line in enumerate(fh, 1) if text in line and "_line_of" not in line)


def test_a_switch_typo_is_a_located_error_listing_the_choices():
    with pytest.raises(ProfileError) as err:
        FIXED.with_(name="typo", mismatch_check="metdata")  # the typo
    assert str(err.value) == (f"{HERE}:{_line_of('# the typo')}: mismatch_check='metdata' is not valid; "
                              "valid values are: substring, metadata, full")


@pytest.mark.parametrize("change, message", [
    ({"mismatch_action": "contnue"},
     "MetadataCheck.on_mismatch='contnue' is not valid; valid values are: continue, rebuild"),
    ({"missing_prompt": "rebuild"}, "MetadataCheck.on_missing='rebuild' is not valid; valid values are: "
                                    "ws-greeting-fallback, rebuild-cached, rebuild-uncached, fail"),
    ({"default_direction": "Inbound"},
     "SpecDirection.default='Inbound' is not valid; valid values are: inbound, outbound"),
    ({"direction_lock": "yes"}, "SpecDirection.lock='yes' is not valid; expected true or false"),
    ({"cross_direction_fallback": 1}, "cross_direction_fallback=1 is not valid; valid values are: True, False"),
    ({"wait_for_prebuild_us": "3s"}, "wait_for_prebuild_us='3s' is not valid; expected a number of microseconds"),
    ({"atomic_registry_write": True}, "prebuild_store policy PromptOnly has no parameter atomic; "
                                      "replace the policy instead"),
])
def test_invalid_switch_values_name_the_parameter_and_the_valid_values(change, message):
    base = LEGACY if "atomic_registry_write" in change else FIXED
    with pytest.raises(ProfileError) as err:
        base.with_(name="bad", **change)
    assert str(err.value).split(": ", 1)[1] == message


def test_an_unknown_field_lists_policies_and_switches():
    with pytest.raises(ProfileError) as err:
        FIXED.with_(name="bad", mismatch_chek="metadata")
    text = str(err.value)
    assert "unknown profile field 'mismatch_chek'" in text
    assert all(seam in text for seam in SEAMS) and all(switch in text for switch in SWITCHES)


def test_policy_constructors_validate_too():
    with pytest.raises(ProfileError, match=r"SubstringCheck.on_missing='greeting' is not valid"):
        SubstringCheck(on_missing="greeting")  # type: ignore[arg-type]
    with pytest.raises(ProfileError, match=r"WaitForPrebuild.timeout_us=True is not valid"):
        WaitForPrebuild(True)


def test_a_policy_missing_its_interface_is_named():
    @dataclass(frozen=True)
    class HalfCache:
        def key(self, business_id, direction):
            return "k"

    with pytest.raises(ProfileError) as err:
        FIXED.with_(name="half", cache=HalfCache())
    assert "cache: HalfCache does not implement CachePolicy (missing: expired)" in str(err.value)


def test_profiles_are_frozen_and_with_records_the_base():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FIXED.name = "other"  # type: ignore[misc]
    derived = FIXED.with_(name="mine", summary="fixed, continuing on a mismatch", mismatch_action="continue")
    assert (derived.based_on, derived.origin, derived.class_name) == ("fixed", "", "Profile")
    assert derived.prompt_check == MetadataCheck(on_mismatch="continue", on_missing="rebuild-cached")
    assert FIXED.prompt_check.on_mismatch == "rebuild"   # the base is untouched


def test_switches_map_onto_the_built_ins():
    """Each built-in equals legacy with its switches flipped: the switches are the old vocabulary."""
    fixed = LEGACY.with_(name="fixed", summary=FIXED.summary, origin=FIXED.origin, cross_direction_fallback=False,
                         builder_a_strips=False, store_direction_metadata=True, mismatch_check="metadata",
                         mismatch_action="rebuild", missing_prompt="rebuild-cached")
    fixed = dataclasses.replace(fixed, builders=FIXED.builders, based_on=FIXED.based_on)
    assert fixed == FIXED


def test_one_registry_holds_built_ins_and_mutants():
    assert profile_names() == [p.name for p in (*BUILTINS, *MUTANTS)]
    assert all(load_profile(p.name) is p for p in (*BUILTINS, *MUTANTS))
    assert all(m.based_on in {b.name for b in BUILTINS} for m in MUTANTS)


def test_a_registry_refuses_a_different_profile_under_a_taken_name():
    registry = ProfileRegistry(BUILTINS)
    registry.register(FIXED)  # the same value again is fine
    with pytest.raises(ProfileError, match="a different profile is already registered as 'fixed'"):
        registry.register(FIXED.with_(direction=SpecDirection(lock=False)))
    with pytest.raises(ProfileError, match="unknown profile 'fixd'; known: legacy, fixed"):
        registry.get("fixd")
    assert "mutant-cache-key-no-direction" in REGISTRY and "mutant-cache-key-no-direction" not in registry


def _user_module(tmp_path, monkeypatch, name: str, body: str) -> None:
    (tmp_path / f"{name}.py").write_text("from callreplay.pipeline.profiles import FIXED\n" + body, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


def test_a_typo_in_a_user_module_names_its_file_and_line(tmp_path, monkeypatch):
    _user_module(tmp_path, monkeypatch, "typo_profiles", "\nOURS = FIXED.with_(name='ours', mismatch_check='metdata')\n")
    with pytest.raises(ProfileError) as err:
        load_profile("typo_profiles:OURS", allow_code=True)
    assert str(err.value) == (f"profile 'typo_profiles:OURS': {tmp_path / 'typo_profiles.py'}:3: "
                              "mismatch_check='metdata' is not valid; valid values are: substring, metadata, full")


def test_a_bad_policy_value_in_a_user_module_names_its_file_and_line(tmp_path, monkeypatch):
    _user_module(tmp_path, monkeypatch, "policy_profiles",
                 "from callreplay.pipeline.policies import MetadataCheck\n"
                 "OURS = FIXED.with_(name='ours', prompt_check=MetadataCheck(on_mismatch='ignore'))\n")
    with pytest.raises(ProfileError) as err:
        load_profile("policy_profiles:OURS", allow_code=True)
    assert str(err.value) == (f"profile 'policy_profiles:OURS': {tmp_path / 'policy_profiles.py'}:3: "
                              "MetadataCheck.on_mismatch='ignore' is not valid; valid values are: continue, rebuild")


def test_a_user_profile_named_like_a_built_in_is_renamed_to_its_reference(tmp_path, monkeypatch):
    _user_module(tmp_path, monkeypatch, "clash_profiles", "OURS = FIXED.with_(mismatch_action='continue')\n")
    profile = load_profile("clash_profiles:OURS", allow_code=True)
    assert profile.name == "clash_profiles:OURS" and profile.origin == "clash_profiles.OURS"


def test_a_user_module_attribute_that_is_not_a_profile_is_refused(tmp_path, monkeypatch):
    _user_module(tmp_path, monkeypatch, "class_profiles", "class Ours:\n    pass\n")
    with pytest.raises(ProfileError, match=r"'class_profiles:Ours' is a type, expected a "
                                           r"callreplay.pipeline.profiles.Profile"):
        load_profile("class_profiles:Ours", allow_code=True)


def test_a_user_profile_keeps_its_name_and_summary_in_results(tmp_path, monkeypatch):
    _user_module(tmp_path, monkeypatch, "kept_profiles",
                 "OURS = FIXED.with_(name='ours-2026-03', summary='our pipeline in March')\n")
    scenario = scenario_from_dict({"name": "kept", "businesses": [business(1)], "steps": inbound_call()}, tmp_path)
    (outcome,) = run_all([scenario.file], RunOptions(profiles=["kept_profiles:OURS"], report_dir=tmp_path / "out",
                                                      write=False))
    assert outcome.result["profile"] == {"name": "ours-2026-03", "summary": "our pipeline in March",
                                         "class": "kept_profiles.OURS"}
