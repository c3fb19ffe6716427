"""Pseudonyms and secret removal, pinned by exact values."""

from __future__ import annotations

import pytest

from callreplay.capture.redact import Redactor, normalise_phone, parse_keep


@pytest.mark.parametrize(("written", "e164"), [
    ("+972501234567", "+972501234567"), ("050-123-4567", "+972501234567"), ("0501234567", "+972501234567"),
    ("03-123-4567", "+97231234567"), ("031234567", "+97231234567"),
])
def test_local_forms_normalise_to_e164(written, e164):
    assert normalise_phone(written, ("IL", "US")) == e164


def test_same_subscriber_same_pseudonym_in_every_form_and_idempotent():
    red = Redactor()
    text = "from +972501234567 to 03-123-4567, again 050-123-4567 and +97231234567"
    assert red.text(text) == "from +15550000001 to +15550000002, again +15550000001 and +15550000002"
    assert red.text(red.text(text)) == red.text(text)


def test_secrets_are_removed_and_account_sids_stay():
    red = Redactor()
    sid = "AC" + "ab" * 16
    assert red.text(f"key SK{'1' * 32} token {'f' * 32} account {sid}") == \
        f"key SK[REDACTED] token [REDACTED] account {sid}"
    assert red.value({"AuthToken": "x", "Other": "y"}) == {"AuthToken": "[REDACTED]", "Other": "y"}
    assert red.headers({"Authorization": "Basic abc", "X-Twilio-Signature": "s", "User-Agent": "TwilioProxy/1.1"}) \
        == {"User-Agent": "TwilioProxy/1.1"}


def test_keep_switches_categories_off():
    red = Redactor(parse_keep("phones,signatures"))
    assert red.text("+972501234567") == "+972501234567"
    assert red.headers({"X-Twilio-Signature": "s"}) == {"X-Twilio-Signature": "s"}
    with pytest.raises(ValueError, match="unknown --keep value audio"):
        parse_keep("audio")


def test_media_messages_pass_through_byte_identical():
    text = '{"event":"media","sequenceNumber":"2","media":{"payload":"MDUwMTIzNDU2Nw=="}}'
    assert Redactor().ws_text(text) == text


def test_the_report_masker_covers_every_form_the_capture_redactor_pseudonymises():
    from callreplay.capture.redact import Redactor
    from callreplay.redact import redact_text

    forms = ["+972501234567", "+14155550123", "050-123-4567", "0501234567", "03-123-4567", "031234567",
             "072-123-4567", "+4420712345678"]
    redactor = Redactor(salt=b"s")
    for form in forms:
        text = f"call {form} now"
        assert redactor.phones(text) != text, form  # the capture side recognises it
        assert form not in redact_text(text), form  # so the report side masks it
