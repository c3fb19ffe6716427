"""The wire sanitiser (spec §4.4), pinned rule by rule with exact strings."""

from __future__ import annotations

import pytest

from callreplay.pipeline.sanitize import (
    FULL_PROMPT_MAX_CHARS,
    sanitize_changed_length_log,
    sanitize_for_realtime,
    sanitize_realtime_instructions,
)

from .prompts import INBOUND_EN, INBOUND_HE, OUTBOUND_EN, OUTBOUND_HE, layered

HEADER = "BUSINESS PROMPT (Business ID: 7, Name: X, Call: INBOUND):"

CONTENT_RULES = [
    # e-mail
    ("Write to dana@alpha.co.il today.", "Write to [email] today."),
    ("כתבו ל-info@alpha.com ונחזור", "כתבו ל-[email] ונחזור"),
    # Israeli mobile, every grouping
    ("Call 050-1234567 now", "Call [phone] now"),
    ("Call 0501234567 now", "Call [phone] now"),
    ("Call 050 123 4567 now", "Call [phone] now"),
    ("Call 052-123-4567 now", "Call [phone] now"),
    ("Call 972-54-1234567 now", "Call [phone] now"),
    ("התקשרו 054-7654321 עכשיו", "התקשרו [phone] עכשיו"),
    # Israeli landline
    ("Office 03-1234567.", "Office [phone]."),
    ("Office 02 123 4567.", "Office [phone]."),
    ("Office 072-1234567.", "Office [phone]."),
    ("Office 091234567.", "Office [phone]."),
    # international
    ("Intl +972-50-123-4567 ok", "Intl [phone] ok"),
    ("Intl +972501234567 ok", "Intl [phone] ok"),
    ("Intl +1 (212) 555-1234 ok", "Intl [phone] ok"),
    ("Intl +44 20 7946 0958 ok", "Intl [phone] ok"),
    ("Short +1234567 stays", "Short +1234567 stays"),
    # numbers that are not phones
    ("יש לנו 3 סניפים מאז 2019, חדר 12.", "יש לנו 3 סניפים מאז 2019, חדר 12."),
    ("Price 1234567 flat", "Price 1234567 flat"),
    # URLs and domains: deleted, sentence punctuation kept
    ("See https://alpha.co.il/offer?x=1. Thanks", "See . Thanks"),
    ("See http://example.org/a/b now", "See now"),
    ("Go to www.alpha.com, please", "Go to , please"),
    ("Visit alpha.co.il or ALPHA.COM/deals today", "Visit or today"),
    ("בקרו באתר alpha.co.il לפרטים", "בקרו באתר לפרטים"),
    ("Domains like gov.il and x.net go", "Domains like and go"),
    ("Not a domain: e.g. this", "Not a domain: e.g. this"),
    # key/value ids
    ("lead_id=abc123 next", "next"),
    ("ctx business_id: 77, rest", "ctx , rest"),
    ("stream_sid=MZ1234; call_id = x9", ";"),
    # kind ids: 8+ characters removed, short ids survive
    ("Lead ID: 123456789 waiting", "waiting"),
    ("Call ID abcdefgh12 done", "done"),
    ("Customer id=CUST_0001 ok", "ok"),
    ("Session ID #sess-1234 x", "x"),
    ("Business ID: 123 stays", "Business ID: 123 stays"),
    ("Lead ID: 1234567 stays", "Lead ID: 1234567 stays"),
    (HEADER, HEADER),
    # UUIDs
    ("ref 123e4567-e89b-12d3-a456-426614174000 end", "ref end"),
    ("ref 123E4567-E89B-12D3-A456-426614174000 end", "ref end"),
    # markers: underscore forms only
    ("##CRM## hello ##END_CTX## there", "hello there"),
    ("BEGIN_SCRIPT say hi END_SCRIPT", "say hi"),
    ("START_HERE go", "go"),
    ("CRM_CONTEXT_START data CRM_CONTEXT_END", "data"),
    ("BUSINESS_PROMPT_START body SYSTEM_PROMPT", "body"),
    ("BUSINESS PROMPT and SYSTEM PROMPT stay", "BUSINESS PROMPT and SYSTEM PROMPT stay"),
    ("BACKEND_URL and begin_x stay", "BACKEND_URL and begin_x stay"),
    # punctuation runs
    ("Wow!! Really??? Wait... ok.. fine", "Wow! Really? Wait. ok.. fine"),
    ("מעולה!!!! באמת???? טוב....", "מעולה! באמת? טוב."),
    # bidi marks and niqqud
    ("שָׁלוֹם", "שלום"),
    ("בְּרֵאשִׁית בָּרָא", "בראשית ברא"),
    ("\u200fשלום\u200e עולם\u202b!\u202c", "שלום עולם!"),
    # whitespace
    ("  a\n\n b\t\tc  \r\n", "a b c"),
    # Hebrew passes through
    ('שלום, אני מתקשר מ"אלפא ביטוח" לגבי הצעה', 'שלום, אני מתקשר מ"אלפא ביטוח" לגבי הצעה'),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CONTENT_RULES)
def test_sanitize_for_realtime_rule(text: str, expected: str) -> None:
    assert sanitize_for_realtime(text, 0) == expected


def test_sanitize_for_realtime_none_is_empty() -> None:
    assert sanitize_for_realtime(None, 100) == ""


LAYOUT_RULES = [
    ("# כותרת\n\n**חשוב:** _לא_ לנתק > אף פעם | תודה", "כותרת חשוב: לא לנתק אף פעם תודה"),
    ("line one\\nline two\nline three", "line one line two line three"),
    ("before ```python\nprint('x')\n``` after", "before after"),
    ("a → b ⟶ c ⤴ d", "a b c d"),
    ("╔══╗ box ║ ╚══╝", "box"),
    ("great 😀👍🏽 done ✅ ⭐ ☎️ ok", "great done ok"),
    ("🇮🇱 flag", "flag"),
    ("• one ● two ▪▫ three ◆◇ four ■□ five", "one two three four five"),
    ("lead_name and `code`", "lead name and code"),
    ("a**__b", "a b"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), LAYOUT_RULES)
def test_sanitize_realtime_instructions_rule(text: str, expected: str) -> None:
    assert sanitize_realtime_instructions(text) == expected


def test_header_with_short_business_id_survives_the_whole_sanitiser() -> None:
    text = "BUSINESS PROMPT (Business ID: 123, Name: אלפא, Call: INBOUND):\nשלום"
    assert sanitize_realtime_instructions(text) == "BUSINESS PROMPT (Business ID: 123, Name: אלפא, Call: INBOUND): שלום"


def test_layered_prompt_becomes_one_line_with_labels_intact() -> None:
    out = sanitize_realtime_instructions(layered("שלום\nעולם", 7, "X", "inbound"))
    assert "\n" not in out
    assert "BUSINESS PROMPT (Business ID: 7, Name: X, Call: INBOUND): שלום עולם CALL TYPE: INBOUND." in out
    assert out.endswith("The customer called the business. Follow the business prompt for flow.")


def test_content_cap_keeps_last_space_when_it_is_at_least_70_percent() -> None:
    # cap 10: cut "aaaaaaa bb", last space at index 7 >= int(10 * 0.7) = 7
    assert sanitize_for_realtime("aaaaaaa bbbbbb", 10) == "aaaaaaa"


def test_content_cap_hard_cuts_when_the_boundary_is_below_70_percent() -> None:
    # cap 10: cut "aaaaaa bbb", last space at index 6 < 7
    assert sanitize_for_realtime("aaaaaa bbbbbbb", 10) == "aaaaaa bbb"


def test_content_cap_leaves_short_text_alone() -> None:
    assert sanitize_for_realtime("aaaa bbbbb", 10) == "aaaa bbbbb"


def test_content_cap_drops_a_word_that_ends_exactly_at_the_cap() -> None:
    # the pipeline searches for a space inside text[:cap] only, so a complete last word is cut too
    assert sanitize_for_realtime("aaaaaaa bb cc", 10) == "aaaaaaa"


def test_instructions_cap_keeps_last_space_when_it_is_at_least_60_percent() -> None:
    # cap 10: stage one gets cap 20 and keeps all; last space at 6 >= int(10 * 0.6) = 6
    assert sanitize_realtime_instructions("aaaaaa bbbbbbb", max_chars=10) == "aaaaaa"


def test_instructions_cap_hard_cuts_when_the_boundary_is_below_60_percent() -> None:
    assert sanitize_realtime_instructions("aaaaa bbbbbbbbb", max_chars=10) == "aaaaa bbbb"


def test_instructions_stage_one_cap_is_twice_the_final_cap() -> None:
    # 30 chars with cap 10: stage one (cap 20) cuts to "aaaa bbbb cccc dddd", stage two to "aaaa bbbb"
    assert sanitize_realtime_instructions("aaaa bbbb cccc dddd eeee ffff", max_chars=10) == "aaaa bbbb"


def test_default_cap_is_8000_on_a_space() -> None:
    text = "מילה " * 2000  # 10000 chars
    out = sanitize_realtime_instructions(text)
    assert FULL_PROMPT_MAX_CHARS == 8000
    assert len(out) == 7999
    assert out.endswith("מילה")


def test_zero_cap_means_no_cap() -> None:
    text = "word " * 3000
    assert len(sanitize_realtime_instructions(text, max_chars=0)) == 14999


@pytest.mark.parametrize("prompt", [OUTBOUND_HE, INBOUND_HE, OUTBOUND_EN, INBOUND_EN])
def test_second_pass_changes_nothing(prompt: str) -> None:
    once = sanitize_realtime_instructions(layered(prompt, 7, "אלפא ביטוח", "inbound"))
    assert sanitize_realtime_instructions(once) == once


def test_outbound_script_exact_wire_form() -> None:
    assert sanitize_realtime_instructions(OUTBOUND_HE) == (
        'שלום, אני מתקשר מחברת "{{business name}}" כדי להציע לך ביטוח רכב במחיר מיוחד. '
        "ההצעה בתוקף עד סוף החודש ואפשר לחסוך עד שלושים אחוז מהפרמיה השנתית. "
        "אם זה מעניין אותך, אשמח לתאם לך שיחה קצרה עם סוכן מורשה. "
        "אפשר גם להתקשר אלינו בטלפון [phone] או להיכנס לאתר לפרטים. "
        "אם הלקוח לא מעוניין, הודה לו בנימוס וסיים את השיחה."
    )


LOG_LINES = [
    ("abc", "abc", None),
    ("a  b", "a b", "🧽 [PROMPT_SANITIZE] instructions_len 4→3 (cap=8000)"),
    ("", "", None),
]


@pytest.mark.parametrize(("before", "after", "expected"), LOG_LINES)
def test_sanitize_changed_length_log(before: str, after: str, expected: str | None) -> None:
    assert sanitize_changed_length_log(before, after) == expected
