"""Content fingerprints: which configured prompt a set of sanitised instructions carries."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from callreplay.detectors.fingerprint import (
    DEFAULT_SCAFFOLDING,
    Fingerprint,
    SourceMatch,
    attribute,
    candidate_texts,
    containment,
    fingerprint,
    match_sources,
    normalize,
)

from .prompts import INBOUND_EN, INBOUND_HE, OUTBOUND_EN, OUTBOUND_HE, named, wire

NAME = "אלפא ביטוח"


def _sources(inbound: str | None, outbound: str | None) -> dict[str, str | None]:
    return {"ai_prompt": inbound, "outbound_ai_prompt": outbound}


NORMALIZE = [
    ("שָׁלוֹם, עוֹלָם!", "שלום עולם"),
    ("Hello, WORLD — straße", "hello world strasse"),
    ("Call 050-123-4567 or [phone] now", "call or now"),
    ("mail dana@alpha.co.il or [email] or https://alpha.co.il/x or www.a.com or alpha.co.il.", "mail or or or or"),
    ("lead_name **bold** > quote | pipe", "lead name bold quote pipe"),
    ("בית־ספר", "ביתספר"),
    ('צה"ל ו-ABC 12', "צה ל ו abc 12"),
    ("ｆｕｌｌ ｗｉｄｔｈ １２３", "full width 123"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), NORMALIZE)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_makes_configured_and_sent_forms_equal() -> None:
    configured = named(OUTBOUND_HE, NAME)
    sent = wire(configured, 7, NAME, "inbound")
    assert normalize(configured) in normalize(sent)


def test_fixed_hash_value() -> None:
    # blake2b(digest_size=8) of the UTF-8 4-gram, big-endian: 0xb472635cb369142a
    fp = fingerprint("שָׁלוֹם, עולם טוב מאוד!")
    assert fp == Fingerprint(frozenset({13002564323970192426}), 4, 4, "שלום עולם טוב מאוד")


def test_hash_is_stable_across_processes_with_different_hash_seeds() -> None:
    code = (
        "from callreplay.detectors.fingerprint import fingerprint; print(sorted(fingerprint('a b c d e f').shingles))"
    )
    outputs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(done.stdout)
    assert outputs == {f"{sorted(fingerprint('a b c d e f').shingles)}\n"}


SHORT_TEXTS = [("a b c d e", 4, 2), ("a b c", 3, 1), ("a", 1, 1), ("", 4, 0)]


@pytest.mark.parametrize(("text", "n", "count"), SHORT_TEXTS)
def test_short_texts_fall_back_to_smaller_n(text: str, n: int, count: int) -> None:
    fp = fingerprint(text)
    assert (fp.n, len(fp.shingles)) == (n, count)


def test_fingerprint_without_fallback_keeps_n() -> None:
    assert fingerprint("a b c", fallback=False) == Fingerprint(frozenset(), 4, 3, "a b c")


def test_containment_counts_source_shingles_in_target() -> None:
    source = fingerprint("one two three four five six")  # 3 shingles
    target = fingerprint("zero one two three four five seven")
    assert containment(source, target) == pytest.approx(2 / 3)
    assert containment(fingerprint(""), target) == 0.0


def test_containment_refuses_different_n() -> None:
    with pytest.raises(ValueError, match=r"source uses 2-grams but target uses 4-grams"):
        containment(fingerprint("a b"), fingerprint("a b c d e"))


CANDIDATES = [
    (None, []),
    ("   ", []),
    ("שלום {{business_name}}", ["שלום אלפא", "שלום {{business_name}}"]),
    ("hi {{BUSINESS_NAME}} and {{lead_name}}", ["hi אלפא and {{lead_name}}", "hi {{BUSINESS_NAME}} and {{lead_name}}"]),
    ("plain", ["plain"]),
    (
        '{"calls": "c {{business_name}}", "whatsapp": "w"}',
        [
            "c אלפא",
            "c {{business_name}}",
            "w",
            '{"calls": "c אלפא", "whatsapp": "w"}',
            '{"calls": "c {{business_name}}", "whatsapp": "w"}',
        ],
    ),
    ('{"calls": "", "whatsapp": ""}', ['{"calls": "", "whatsapp": ""}']),
    ('{"calls": 5}', ['{"calls": 5}']),
    ("[1, 2]", ["[1, 2]"]),
    ("{not json", ["{not json"]),
]


@pytest.mark.parametrize(("raw", "expected"), CANDIDATES)
def test_candidate_texts(raw: str | None, expected: list[str]) -> None:
    assert candidate_texts(raw, "אלפא") == expected


def test_incident_outbound_body_under_inbound_labels_is_outbound() -> None:
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    assert "Call: INBOUND" in instructions and "CALL TYPE: INBOUND" in instructions
    result = attribute(instructions, _sources(INBOUND_HE, OUTBOUND_HE), NAME)
    assert (result.verdict, result.present) == ("matches:outbound_ai_prompt", ("outbound_ai_prompt",))
    inbound, outbound = result.matches
    assert (inbound.label, inbound.containment, inbound.matched_shingles, inbound.present) == (
        "ai_prompt",
        0.0,
        0,
        False,
    )
    # 56 words after normalisation -> 53 distinct 4-grams, all on the wire
    assert (outbound.containment, outbound.matched_shingles, outbound.total_shingles) == (1.0, 53, 53)
    assert outbound.candidate == "raw"
    assert outbound.matched_examples == ("שלום אני מתקשר מחברת", "אני מתקשר מחברת אלפא", "מתקשר מחברת אלפא ביטוח")
    assert (outbound.removed_scaffolding, outbound.removed_shared, outbound.truncated_tail) == (0, 0, 0)


def test_incident_with_empty_json_inbound_prompt() -> None:
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    result = attribute(instructions, _sources('{"calls": "", "whatsapp": ""}', OUTBOUND_HE), NAME)
    assert result.verdict == "matches:outbound_ai_prompt"
    assert result.matches[0].total_shingles == 1 and result.matches[0].matched_shingles == 0


def test_mirror_inbound_body_under_outbound_labels_is_inbound() -> None:
    instructions = wire(named(INBOUND_HE, NAME), 7, NAME, "outbound")
    assert "Call: OUTBOUND" in instructions
    result = attribute(instructions, _sources(INBOUND_HE, OUTBOUND_HE), NAME)
    assert result.verdict == "matches:ai_prompt"
    assert result.matches[0].containment == 1.0
    assert result.matches[1].containment == 0.0


@pytest.mark.parametrize(
    ("body", "direction", "verdict"),
    [
        (OUTBOUND_EN, "inbound", "matches:outbound_ai_prompt"),
        (INBOUND_EN, "inbound", "matches:ai_prompt"),
        (INBOUND_EN, "outbound", "matches:ai_prompt"),
        (OUTBOUND_EN + "\n" + INBOUND_EN, "inbound", "mixed"),
        ("Something nobody configured, said in a completely different way today.", "inbound", "none"),
    ],
)
def test_english_prompts(body: str, direction: str, verdict: str) -> None:
    instructions = wire(named(body, "Sunny Roofs"), 12, "Sunny Roofs", direction)
    assert attribute(instructions, _sources(INBOUND_EN, OUTBOUND_EN), "Sunny Roofs").verdict == verdict


def test_mixed_language_prompt() -> None:
    outbound = (
        "שלום! This is {{business_name}} calling about the משלוח שהזמנת last week. האם הכל הגיע בסדר? Please rate us."
    )
    inbound = "You answer calls for {{business_name}}. שאל את הלקוח במה אפשר לעזור and log the request."
    instructions = wire(named(outbound, "Delta"), 4, "Delta", "inbound")
    result = attribute(instructions, _sources(inbound, outbound), "Delta")
    assert result.verdict == "matches:outbound_ai_prompt"
    assert result.matches[1].containment == 1.0


def test_json_form_prompts_match_their_calls_text() -> None:
    outbound_json = json.dumps({"calls": OUTBOUND_HE, "whatsapp": "הודעת וואטסאפ קצרה על ההצעה החדשה שלנו היום"})
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    result = attribute(instructions, _sources(INBOUND_HE, outbound_json), NAME)
    assert result.verdict == "matches:outbound_ai_prompt"
    assert (result.matches[1].candidate, result.matches[1].containment) == ("calls", 1.0)


def test_json_whatsapp_only_prompt_is_found() -> None:
    text = "הודעה לכל הלקוחות: המבצע של {{business_name}} מסתיים ביום חמישי, כדאי להזדרז ולהזמין עכשיו."
    instructions = wire(named(text, NAME), 7, NAME, "inbound")
    raw = json.dumps({"calls": "", "whatsapp": text}, ensure_ascii=False)
    result = attribute(instructions, _sources(raw, None), NAME)
    assert result.verdict == "matches:ai_prompt"
    assert result.matches[0].candidate == "whatsapp"


def test_unsubstituted_placeholder_still_matches() -> None:
    # builder D (FIX path) sends the outbound body without substitution of a JSON form; raw text keeps it
    instructions = wire(OUTBOUND_HE, 7, NAME, "outbound")
    result = match_sources(instructions, _sources(INBOUND_HE, OUTBOUND_HE), NAME)
    assert result["outbound_ai_prompt"].candidate == "raw+unsubstituted"
    assert result["outbound_ai_prompt"].containment == 1.0


def test_empty_prompts_are_absent_with_a_reason() -> None:
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    result = match_sources(instructions, {"ai_prompt": "", "outbound_ai_prompt": None, "system_prompt": "  "}, NAME)
    assert list(result) == ["ai_prompt", "outbound_ai_prompt", "system_prompt"]
    assert result["ai_prompt"] == SourceMatch(
        "ai_prompt", 0.0, 0, 0, (), False, reason="absent: ai_prompt is not configured"
    )
    assert attribute(instructions, {"ai_prompt": ""}, NAME).verdict == "none"


SHARED = "שלום, אני מדבר מחברת אלפא ביטוח ואני זמין לכל שאלה שיש לך לגבי הפוליסה שלך."


def test_shared_sentence_is_not_evidence() -> None:
    inbound = SHARED + " במה אפשר לעזור לך היום? אני יכול לבדוק סטטוס של תביעה או לעדכן פרטים."
    outbound = SHARED + " אני מתקשר כדי להציע לך שדרוג לפוליסה עם כיסוי מורחב לנהג צעיר."
    only_shared = wire(SHARED + " תודה ולהתראות.", 7, NAME, "inbound")
    result = match_sources(only_shared, _sources(inbound, outbound), NAME)
    for match in result.values():
        # SHARED is 15 words -> 12 4-grams, all in both prompts
        assert (match.removed_shared, match.matched_shingles, match.present) == (12, 0, False)
    assert attribute(only_shared, _sources(inbound, outbound), NAME).verdict == "none"
    with_outbound = wire(outbound, 7, NAME, "inbound")
    assert attribute(with_outbound, _sources(inbound, outbound), NAME).verdict == "matches:outbound_ai_prompt"


def test_identical_texts_cannot_be_told_apart() -> None:
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    sources = {"outbound_ai_prompt": OUTBOUND_HE, "other_business:3:outbound_ai_prompt": OUTBOUND_HE}
    result = attribute(instructions, sources, NAME)
    assert result.verdict == "none"
    assert [(m.total_shingles, m.removed_shared) for m in result.matches] == [(0, 53), (0, 53)]


@pytest.mark.parametrize(
    "labels",
    [
        _sources(
            "CALL TYPE: INBOUND. The customer called the business.",
            "CALL TYPE: OUTBOUND. You are calling the customer.",
        ),
        _sources("INBOUND", "OUTBOUND"),
        _sources("Call: INBOUND", "Call: OUTBOUND"),
        _sources("Caller contacted the business.", "You initiated this call."),
        _sources(
            "BUSINESS PROMPT (Business ID: 7, Name: אלפא ביטוח, Call: INBOUND):", "Follow the business prompt for flow."
        ),
        _sources(
            "You are a professional service representative for {{business_name}}. Be helpful and collect customer information.",
            "You are a professional outbound representative for {{business_name}}. Be brief, polite, and helpful.",
        ),
    ],
)
def test_header_and_footer_labels_never_make_a_direction_present(labels: dict[str, str | None]) -> None:
    for direction in ("inbound", "outbound"):
        instructions = wire("Unrelated body text that nobody configured anywhere at all.", 7, NAME, direction)
        result = attribute(instructions, labels, NAME)
        assert result.verdict == "none"
        assert all(m.total_shingles == 0 and m.removed_scaffolding >= 1 for m in result.matches)


def _long_outbound() -> str:
    return "\n".join(
        f"סעיף {i}: הצע ללקוח את מסלול {i} עם הנחה של {i} שקלים בחודש הראשון ובדוק אם זה מתאים לו."
        for i in range(1, 201)
    )


def test_prompt_truncated_by_the_cap_still_matches() -> None:
    body = _long_outbound()
    assert len(body) > 15000
    instructions = wire(body, 7, NAME, "inbound")
    assert len(instructions) == 7999 and "CALL TYPE" not in instructions
    match = match_sources(instructions, _sources(INBOUND_HE, body), NAME)["outbound_ai_prompt"]
    # 2405 distinct 4-grams; the wire ends inside clause 86, so the 1375 after it leave the denominator
    assert (match.present, match.containment, match.matched_shingles, match.truncated_tail) == (True, 1.0, 1030, 1375)


def test_truncation_is_not_assumed_when_the_footer_survives() -> None:
    first_75 = "\n".join(_long_outbound().split("\n")[:75])
    instructions = wire(first_75, 7, NAME, "inbound")
    assert len(instructions) > 4800 and instructions.endswith("Follow the business prompt for flow.")
    match = match_sources(instructions, _sources(INBOUND_HE, _long_outbound()), NAME)["outbound_ai_prompt"]
    # per clause 12 numbered 4-grams + 7 shared by all clauses: 75 * 12 - 2 (into clause 76) + 7 = 905
    assert (match.present, match.matched_shingles, match.total_shingles, match.truncated_tail) == (False, 905, 2405, 0)


def test_same_text_under_different_business_names() -> None:
    for name in ("אלפא ביטוח", "Beta Cars", "גמא"):
        instructions = wire(named(OUTBOUND_HE, name), 3, name, "inbound")
        result = match_sources(instructions, _sources(INBOUND_HE, OUTBOUND_HE), name)
        assert result["outbound_ai_prompt"].containment == 1.0
        assert result["ai_prompt"].containment == 0.0
    # measured with the wrong name, the shingles around the name miss but the script is still found
    instructions = wire(named(OUTBOUND_HE, "Beta Cars"), 3, "Beta Cars", "inbound")
    wrong = match_sources(instructions, _sources(INBOUND_HE, OUTBOUND_HE), "גמא")["outbound_ai_prompt"]
    assert wrong.present and wrong.containment < 1.0


def test_custom_scaffolding_removes_its_shingles() -> None:
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    exclude = (*DEFAULT_SCAFFOLDING, "ההצעה בתוקף עד סוף החודש ואפשר לחסוך עד שלושים אחוז")
    match = match_sources(instructions, _sources(None, OUTBOUND_HE), NAME, exclude=exclude)["outbound_ai_prompt"]
    assert match.removed_scaffolding == 7  # 10 words -> 7 4-grams


def test_threshold_is_configurable() -> None:
    half = "\n".join(_long_outbound().split("\n")[:40])
    instructions = wire(half, 7, NAME, "inbound")
    result = attribute(instructions, _sources(None, _long_outbound()), NAME, threshold=0.15)
    assert result.verdict == "matches:outbound_ai_prompt"


def test_reason_quotes_the_evidence() -> None:
    instructions = wire(named(OUTBOUND_HE, NAME), 7, NAME, "inbound")
    match = match_sources(instructions, _sources(INBOUND_HE, OUTBOUND_HE), NAME)["outbound_ai_prompt"]
    assert match.reason == (
        "present: 53/53 4-gram shingles of outbound_ai_prompt[raw] found (100%, threshold 60%); "
        "removed 0 scaffolding, 0 shared with other sources, 0 after the length cap"
    )
