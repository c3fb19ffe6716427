"""Phone numbers in every written form, in several countries, and credentials by shape and by key:
one finder (:mod:`callreplay.privacy`) for captures, imports and reports, and what it must leave alone."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callreplay.capture.redact import Redactor
from callreplay.privacy.line_scan import lines_to_check
from callreplay.privacy.phones import PHONE_REGIONS, e164_of, find_phones, with_first
from callreplay.redact import redact, redact_json_lines, redact_text
from callreplay.trace import canonical_json

# (as written, the E.164 number it is); a national form is read in the country its data comes from,
# put first in the regions (``IL:`` below), as the capture redactor does once it has seen one E.164 number
FORMS = [
    ("IL:050 444 5566", "+972504445566"),       # Israel, mobile, spaces
    ("IL:(050) 777-8899", "+972507778899"),     # Israel, brackets
    ("IL:053.222.3344", "+972532223344"),       # Israel, dots
    ("IL:03-123-4567", "+97231234567"),         # Israel, landline
    ("972541112233", "+972541112233"),          # international without the +
    ("+972 50-123-4567", "+972501234567"),
    ("+1 415 523 8886", "+14155238886"),        # United States
    ("(415) 523-8886", "+14155238886"),
    ("4155238886", "+14155238886"),
    ("+44 20 7946 0958", "+442079460958"),      # United Kingdom
    ("GB:020 7946 0958", "+442079460958"),
    ("+49 30 1234567", "+49301234567"),         # Germany
    ("DE:030 1234567", "+49301234567"),
    ("+33 6 12 34 56 78", "+33612345678"),      # France
    ("FR:06 12 34 56 78", "+33612345678"),
    ("+91 98765 43210", "+919876543210"),       # India
    ("+61 412 345 678", "+61412345678"),        # Australia
    ("+55 11 91234-5678", "+5511912345678"),    # Brazil
    ("0044 20 7946 0958", "+442079460958"),     # 00 international prefix
]
WRITTEN = [w.partition(":")[2] if w[2:3] == ":" else w for w, _ in FORMS]


def _split(form: str) -> tuple[str, tuple[str, ...]]:
    if form[2:3] == ":":
        return form[3:], with_first(PHONE_REGIONS, form[:2])
    return form, PHONE_REGIONS


NATIONAL_ONLY = ["050-123-4567", "06 12 34 56 78", "030 1234567"]  # masked whatever the country
NOT_PHONES = [
    "2026-01-08T10:00:00+02:00", "01/08/2026", "1767859200.000", "3.14159265358", "seq 1234567",
    "CA5c7e9a1b3d5f7a9c1e3b5d7f9a1c3e5d", "MZ" + "12345678" * 4, "session=SES-03051488",
    "hash=aae2b0231481767b", "/2010-04-01/Accounts/", "t_us 12000000", "bytes 160000", "v1.2.3",
    "points=\"1002.3,106.5 1009.0,106.5 977.0,165.2\"",
]


@pytest.mark.parametrize(("form", "e164"), FORMS)
def test_each_form_is_found_as_its_number(form, e164):
    written, regions = _split(form)
    assert e164_of(written, regions) == e164
    for text in (f"call {written} now", f"התקשרו {written}.", f"tel:{written}"):
        matches = find_phones(text, regions)
        assert [m.e164 for m in matches] == [e164], text


def test_a_capture_reads_national_forms_in_the_country_of_its_webhooks():
    red = Redactor(salt=b"s")
    webhook = red.value({"From": "+972501234567", "To": "+97231234567"})
    later = red.text("the caller said: call me on 050-123-4567, or the office on 03-123-4567")
    assert later == f"the caller said: call me on {webhook['From']}, or the office on {webhook['To']}"


@pytest.mark.parametrize("written", WRITTEN + NATIONAL_ONLY)
def test_reports_mask_and_captures_pseudonymise_every_form(written):
    digits = re.sub(r"\D", "", written)
    masked = redact_text(f"the caller left {written} twice")
    assert digits not in re.sub(r"\D", "", masked) and "*" in masked
    pseudonymised = Redactor(salt=b"s").phones(f"the caller left {written} twice")
    assert re.search(r"\+1555\d{7}", pseudonymised) and digits not in re.sub(r"\D", "", pseudonymised)


def test_digits_inside_words_are_masked():
    assert "0501234567" not in redact_text("call0501234567now")
    assert "0501234567" not in redact_text("מספר0501234567")


def test_one_subscriber_one_pseudonym_across_forms_and_countries():
    red = Redactor(salt=b"s")
    same = [red.phones(w) for w in ("+1 415 523 8886", "(415) 523-8886", "4155238886", "+14155238886")]
    assert len(set(same)) == 1
    assert red.phones("+44 20 7946 0958") == red.phones("0044 20 7946 0958") != same[0]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_dates_decimals_ids_and_counts_are_not_phones(text):
    assert find_phones(text) == [] and redact_text(text) == text


def test_two_numbers_side_by_side_stay_two():
    found = find_phones("+972501234567 0521234567", with_first(PHONE_REGIONS, "IL"))
    assert [m.e164 for m in found] == ["+972501234567", "+972521234567"]


TOKEN = "0123456789abcdef" * 2


@pytest.mark.parametrize(("holder", "secret"), [
    ({"AuthToken": "anything at all"}, "anything at all"),                      # by key
    ({"twilio_auth_token": "short"}, "short"),
    ({"customParameters": {"note": f"token is {TOKEN}"}}, TOKEN),              # by shape, under any key
    ({"free": f"curl -u AC{'ab' * 16}:{TOKEN} https://api"}, TOKEN),
    ({"header": "Authorization: Bearer eyJhbGciOi.J9.abc123"}, "eyJhbGciOi.J9.abc123"),
    ({"key": "SK" + "1f" * 16}, "1f" * 16),
    ({"openai": "sk-proj-abcdefghijklmnopqrstuvwx"}, "proj-abcdefghijklmnopqrstuvwx"),
    ({"X-Twilio-Signature": "dGhpcyBpcyBhIHNpZ25hdHVyZQ=="}, "dGhpcyBpcyBhIHNpZ25hdHVyZQ=="),
])
def test_credentials_by_shape_and_by_key_in_reports_and_captures(holder, secret):
    assert secret not in json.dumps(redact(holder))
    assert secret not in json.dumps(Redactor().value(holder))


def test_token_counts_and_account_sids_stay():
    usage = {"input_tokens": 120, "max_response_output_tokens": "inf", "AccountSid": "AC" + "ab" * 16}
    assert redact(usage) == usage and Redactor().value(usage) == usage


def test_trace_json_numbers_are_never_starred():
    lines = [canonical_json({"seq": 1, "t_us": 2125551234, "data": {"from": "+972501234567"}}),
             canonical_json({"seq": 2, "t_us": 4155238886, "data": {"n": 972541112233}}),
             canonical_json({"seq": 3, "t_us": 5, "data": {"message": "nothing private"}})]
    out = redact_json_lines("\n".join(lines) + "\n", canonical_json).split("\n")
    first, second, third = (json.loads(line) for line in out[:3])
    assert first["t_us"] == 2125551234 and first["data"]["from"] == "+972*******67"
    assert second == json.loads(lines[1]) and out[1] == lines[1] and out[2] == lines[2]
    assert third["data"]["message"] == "nothing private"


_PIECES = st.sampled_from(WRITTEN + NATIONAL_ONLY + NOT_PHONES +
                          [TOKEN, "SK" + "ab" * 16, '"auth_token":"x"', "Bearer abcdefghij", "\u00a0", " ", ",",
                           "word", "שלום", "12", "0", "+", "-", "(", ")", "."])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=6).map("".join), min_size=1, max_size=6))
def test_the_fast_trace_scan_never_misses_a_line_the_exact_finders_change(lines):
    text = "\n".join(json.dumps({"data": {"m": line}}, ensure_ascii=False) for line in lines)
    named = set(lines_to_check(text))
    for index, line in enumerate(text.split("\n")):
        if redact(json.loads(line)) != json.loads(line):
            assert index in named, line
