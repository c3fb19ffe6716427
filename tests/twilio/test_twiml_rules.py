"""TwiML judged as Twilio judges it: one rule per test, exact codes and locations."""

from __future__ import annotations

import pytest

from callreplay.twilio.twiml import MAX_BODY_BYTES, parse_twiml, resolve_stream_url, resolve_url

URL = "https://app.test/voice/incoming"
XML = "text/xml"


def codes(body: str | bytes, content_type: str | None = XML) -> list[tuple[int | None, str, str]]:
    return [(p.code, p.level, p.location) for p in parse_twiml(body, content_type, URL).problems]


def test_a_clean_connect_stream_has_no_problems_and_keeps_its_parameters() -> None:
    body = ('<?xml version="1.0" encoding="UTF-8"?><Response><Connect action="/after">'
            '<Stream url="wss://media.test/s" name="agent"><Parameter name="direction" value="inbound"/>'
            '</Stream></Connect></Response>')
    document = parse_twiml(body, "text/xml; charset=utf-8", URL)
    assert document.problems == []
    (connect,) = document.verbs
    assert (connect.name, dict(connect.attrs), connect.location) == ("Connect", {"action": "/after"}, "Response/Connect[1]")
    stream = connect.child("Stream")
    assert stream is not None and dict(stream.attrs) == {"url": "wss://media.test/s", "name": "agent"}
    assert [(p.name, dict(p.attrs)) for p in stream.children] == [("Parameter", {"name": "direction", "value": "inbound"})]


@pytest.mark.parametrize(("body", "expected"), [
    (' <?xml version="1.0"?><Response/>', [(12100, "error", "body")]),
    ('\n<?xml version="1.0"?><Response/>', [(12100, "error", "body")]),
    ("<Response><Say>hi</Response>", [(12100, "error", "body:1:20")]),
    ("<Response><Say a=b>hi</Say></Response>", [(12100, "error", "body:1:18")]),
    ("<Reply><Say>hi</Say></Reply>", [(12100, "error", "Reply")]),
    ("", [(12100, "error", "body:1:1")]),
])
def test_document_errors_leave_nothing_to_run(body: str, expected: list) -> None:
    document = parse_twiml(body, XML, URL)
    assert codes(body) == expected
    assert document.verbs == () and not document.executable


def test_a_dtd_or_entity_is_refused_not_expanded() -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
            "<Response><Say>&b;</Say></Response>")
    document = parse_twiml(bomb, XML, URL)
    assert [(p.code, p.message) for p in document.problems] == [(12100, "DTDForbidden: TwiML has no DTD or entities")]
    assert document.verbs == ()


def test_body_over_64_kb_is_11750() -> None:
    body = "<Response><Say>" + "a" * MAX_BODY_BYTES + "</Say></Response>"
    assert codes(body) == [(11750, "error", "body")]
    assert codes("<Response>" + " " * (MAX_BODY_BYTES - 21) + "</Response>") == []


@pytest.mark.parametrize(("content_type", "expected"), [
    (None, [(12300, "error", "headers/Content-Type")]),
    ("", [(12300, "error", "headers/Content-Type")]),
    ("text/html; charset=utf-8", [(12300, "error", "headers/Content-Type")]),
    ("application/json", [(12300, "error", "headers/Content-Type")]),
    ("application/xml", []),
    ("TEXT/XML;charset=UTF-8", []),
])
def test_content_type(content_type: str | None, expected: list) -> None:
    assert codes("<Response><Hangup/></Response>", content_type) == expected


def test_names_are_case_sensitive_and_unknown_ones_are_skipped() -> None:
    document = parse_twiml('<Response><say>hi</say><Speak>x</Speak><Say Voice="alice">ok</Say></Response>', XML, URL)
    assert [(p.code, p.level, p.location) for p in document.problems] == [
        (12200, "warning", "Response/say[1]"),
        (12200, "warning", "Response/Speak[1]"),
        (12200, "warning", "Response/Say[1]@Voice"),
    ]
    assert "did you mean <Say>?" in document.problems[0].message
    assert "did you mean 'voice'?" in document.problems[2].message
    assert [(v.name, dict(v.attrs), v.text) for v in document.verbs] == [("Say", {}, "ok")]


def test_wrong_nesting_is_12200_with_the_allowed_children() -> None:
    document = parse_twiml('<Response><Stream url="wss://m.test/s"/><Gather><Dial>1</Dial></Gather></Response>', XML, URL)
    assert [(p.code, p.location) for p in document.problems] == [(12200, "Response/Stream[1]"), (12200, "Response/Gather[1]/Dial[1]")]
    assert document.problems[0].message.startswith("<Stream> is not allowed inside <Response>; it may hold <Connect>,")
    assert document.problems[1].message == "<Dial> is not allowed inside <Gather>; it may hold <Pause>, <Play>, <Say>"


@pytest.mark.parametrize(("verb", "track", "expected"), [
    ("Connect", "inbound_track", []),
    ("Connect", "both_tracks", [(31941, "error", "Response/Connect[1]/Stream[1]@track")]),
    ("Connect", "outbound_track", [(31941, "error", "Response/Connect[1]/Stream[1]@track")]),
    ("Start", "both_tracks", []),
    ("Start", "inbound", [(31941, "error", "Response/Start[1]/Stream[1]@track")]),
])
def test_stream_track_per_verb(verb: str, track: str, expected: list) -> None:
    assert codes(f'<Response><{verb}><Stream url="wss://m.test/s" track="{track}"/></{verb}></Response>') == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("wss://m.test/s", []),
    ("/media", []),  # relative to an https document: wss
    ("ws://m.test/s", [(31922, "error")]),
    ("https://m.test/s", [(31922, "error")]),
    ("wss://", [(31923, "error")]),
    ("wss://m.test:99999/s", [(31923, "error")]),
    ("wss://m test/s", [(31923, "error")]),
    ("", [(31923, "error")]),
    ("wss://m.test/s?tenant=a", [(31923, "warning")]),
])
def test_stream_url(url: str, expected: list) -> None:
    found = [(c, lvl) for c, lvl, _ in codes(f'<Response><Connect><Stream url="{url}"/></Connect></Response>')]
    assert found == expected


def test_relative_stream_url_under_an_http_document_is_ws_and_31922() -> None:
    problems = parse_twiml('<Response><Connect><Stream url="/media"/></Connect></Response>', XML,
                           "http://127.0.0.1:8000/voice").problems
    assert [(p.code, p.message) for p in problems] == [
        (31922, "Stream url scheme is 'ws'; Twilio supports only wss (url 'ws://127.0.0.1:8000/media')")]


def test_parameters_without_name_repeated_or_too_many() -> None:
    params = "".join(f'<Parameter name="p{i}" value="{i}"/>' for i in range(100))
    body = (f'<Response><Start><Stream url="wss://m.test/s"><Parameter value="x"/><Parameter name="p0" value="y"/>'
            f"{params}</Stream></Start></Response>")
    found = [(p.code, p.location) for p in parse_twiml(body, XML, URL).problems]
    assert found == [
        (12200, "Response/Start[1]/Stream[1]/Parameter[1]"),
        (12200, "Response/Start[1]/Stream[1]/Parameter[3]"),
        (12200, "Response/Start[1]/Stream[1]"),
    ]


def test_bad_method_and_missing_urls() -> None:
    found = codes('<Response><Redirect method="PUT">/next</Redirect><Play/><Redirect/></Response>')
    assert found == [(12200, "warning", "Response/Redirect[1]@method"), (11100, "error", "Response/Play[1]"),
                     (11100, "error", "Response/Redirect[2]")]


def test_comments_are_ignored_and_say_keeps_ssml_text() -> None:
    document = parse_twiml('<Response><!-- hi --><Say>Hello <break time="1s"/><emphasis>you</emphasis></Say></Response>',
                           XML, URL)
    assert document.problems == []
    assert document.verbs[0].text == "Hello you"


def test_bytes_with_a_declared_encoding() -> None:
    body = '<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>café</Say></Response>'.encode("latin-1")
    assert parse_twiml(body, XML, URL).verbs[0].text == "café"


@pytest.mark.parametrize(("ref", "expected"), [
    ("/after", "https://app.test/after"),
    ("next", "https://app.test/voice/next"),
    ("https://other.test/x?b=2#ct=1000", "https://other.test/x?b=2"),
    ("  /spaced ", "https://app.test/spaced"),
])
def test_resolve_url(ref: str, expected: str) -> None:
    assert resolve_url(URL, ref) == expected


def test_resolve_stream_url() -> None:
    assert resolve_stream_url(URL, "/media") == "wss://app.test/media"
    assert resolve_stream_url("http://127.0.0.1:8000/v", "media") == "ws://127.0.0.1:8000/media"
    assert resolve_stream_url(URL, "wss://m.test/s#frag") == "wss://m.test/s"


def test_stream_names_are_unique_per_call() -> None:
    body = ('<Response><Start><Stream name="a" url="wss://m.test/1"/></Start><Start><Stream name="a" url="wss://m.test/2"/>'
            '</Start><Stop><Stream name="a"/></Stop><Connect><Stream name="b" url="wss://m.test/3"/></Connect></Response>')
    assert codes(body) == [(12200, "warning", "Response/Start[2]/Stream[1]@name")]
