"""Signatures against twilio-python's own test vectors (shared/twilio-voice.md section 2)."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from callreplay.twilio.signature import webhook_signature, websocket_signature, websocket_signed_parts

TOKEN = "12345"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_post_vectors_match_the_sheet_and_validate(url: str, expected: str) -> None:
    signature = webhook_signature(url, PARAMS, TOKEN)
    assert signature == expected
    assert RequestValidator(TOKEN).validate(url, PARAMS, signature)


def test_params_given_as_pairs_sign_like_a_mapping() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert webhook_signature(url, list(PARAMS.items()), TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_get_signs_the_url_only() -> None:
    url = "https://example.test/voice?CallSid=CA1&From=%2B14158675309"
    signature = webhook_signature(url, None, TOKEN, method="GET")
    assert signature == RequestValidator(TOKEN).compute_signature(url, {})
    assert RequestValidator(TOKEN).validate(url, {}, signature)
    assert signature != webhook_signature(url, {"CallSid": "CA1"}, TOKEN)


def test_get_with_body_params_is_refused() -> None:
    with pytest.raises(ValueError, match="GET webhook carries its parameters in the URL"):
        webhook_signature("https://example.test/voice", {"a": "b"}, TOKEN, method="GET")


def test_websocket_signature_drops_the_query_and_signs_it_as_params() -> None:
    url = "wss://example.test/media?tenant=acme&direction=inbound"
    signature = websocket_signature(url, TOKEN)
    bare, params = websocket_signed_parts(url)
    assert bare == "wss://example.test/media"
    assert params == [("tenant", "acme"), ("direction", "inbound")]
    assert RequestValidator(TOKEN).validate(bare, dict(params), signature)
    # Exactly the [TAC] string: URL, then name+value sorted by name.
    expected = RequestValidator(TOKEN).compute_signature("wss://example.test/media", {"direction": "inbound", "tenant": "acme"})
    assert signature == expected
    # Signing the full URL instead would not validate.
    assert not RequestValidator(TOKEN).validate(url, {}, signature)


def test_websocket_without_query_signs_the_url_alone() -> None:
    url = "wss://127.0.0.1:8765/media"
    assert websocket_signature(url, TOKEN) == RequestValidator(TOKEN).compute_signature(url, {})
