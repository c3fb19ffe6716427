"""What Twilio does next, verb by verb (twilio-voice.md 4.2 and 5)."""

from __future__ import annotations

from callreplay.twilio.twiml import parse_twiml
from callreplay.twilio.twiml_actions import (
    ConnectStream,
    End,
    Gather,
    Hangup,
    Pause,
    Play,
    Redirect,
    Reject,
    Say,
    StartStream,
    StopStream,
    Unsupported,
    say_seconds,
    walk,
)

URL = "https://app.test/voice"


def actions(body: str, url: str = URL) -> tuple:
    return walk(parse_twiml(body, "text/xml", url)).actions


def test_connect_stream_blocks_then_the_next_verb_then_end() -> None:
    body = ('<Response><Connect><Stream url="wss://m.test/s" name="agent" statusCallback="/cb" '
            'statusCallbackMethod="GET"><Parameter name="tenant" value="acme"/><Parameter name="d" value="in"/>'
            '</Stream></Connect><Say>bye</Say></Response>')
    assert actions(body) == (
        ConnectStream(url="wss://m.test/s", name="agent", track="inbound_track", parameters={"tenant": "acme", "d": "in"},
                      status_callback="https://app.test/cb", status_callback_method="GET", action=None, method="POST"),
        Say("bye", 1, 0.4),
        End(),
    )


def test_connect_action_ends_the_document() -> None:
    body = ('<Response><Connect action="/after" method="GET"><Stream url="/media"/></Connect>'
            '<Say>never</Say></Response>')
    (connect,) = actions(body)
    assert isinstance(connect, ConnectStream)
    assert (connect.url, connect.action, connect.method) == ("wss://app.test/media", "https://app.test/after", "GET")


def test_start_stream_forks_and_continues() -> None:
    body = ('<Response><Start><Stream url="wss://m.test/fork" track="both_tracks"/></Start>'
            '<Pause length="3"/><Stop><Stream name="fork"/></Stop></Response>')
    assert actions(body) == (
        StartStream(url="wss://m.test/fork", name=None, track="both_tracks", parameters={}, status_callback=None,
                    status_callback_method="POST"),
        Pause(3), StopStream("fork"), End(),
    )


def test_say_play_pause_with_loops_and_defaults() -> None:
    body = ('<Response><Say voice="Polly.Joanna" language="en-GB" loop="2">one two three four five</Say>'
            '<Play loop="0" digits="1w2">https://a.test/x.wav</Play><Pause/><Say loop="0">hi</Say></Response>')
    assert actions(body) == (
        Say("one two three four five", 2, 4.0, "Polly.Joanna", "en-GB"),
        Play("https://a.test/x.wav", 1000, "1w2"),
        Pause(1),
        Say("hi", 1000, 400.0),
        End(),
    )


def test_say_duration_is_150_words_a_minute() -> None:
    assert say_seconds("word " * 150, 1) == 60.0
    assert say_seconds("", 3) == 0.0


def test_redirect_hangup_and_reject_stop_the_document() -> None:
    assert actions('<Response><Redirect method="GET">next</Redirect><Say>x</Say></Response>') == (
        Redirect("https://app.test/next", "GET"),)
    assert actions("<Response><Hangup/><Say>x</Say></Response>") == (Hangup(),)
    assert actions('<Response><Reject reason="busy"/></Response>') == (Reject("busy"),)


def test_bad_reject_reason_and_pause_length_fall_back_to_defaults_with_a_problem() -> None:
    result = walk(parse_twiml('<Response><Reject reason="nope"/></Response>', "text/xml", URL))
    assert result.actions == (Reject("rejected"),)
    assert [(p.code, p.location) for p in result.problems] == [(12200, "Response/Reject[1]@reason")]
    result = walk(parse_twiml('<Response><Pause length="-2"/><Pause length="x"/></Response>', "text/xml", URL))
    assert result.actions == (Pause(1), Pause(1), End())
    assert [p.location for p in result.problems] == ["Response/Pause[1]@length", "Response/Pause[2]@length"]


def test_gather_without_input_falls_through_or_goes_to_action() -> None:
    body = '<Response><Gather numDigits="1" timeout="3"><Say>press one</Say></Gather><Hangup/></Response>'
    gather, hangup = actions(body)
    assert gather == Gather(prompts=(Say("press one", 1, 0.8),), input="dtmf", action=URL, method="POST",
                            timeout=3, finish_on_key="#", num_digits=1, action_on_empty_result=False)
    assert hangup == Hangup()
    body = '<Response><Gather action="/g" actionOnEmptyResult="true" input="speech"/><Hangup/></Response>'
    (gather,) = actions(body)
    assert isinstance(gather, Gather)
    assert (gather.action, gather.input, gather.timeout, gather.action_on_empty_result) == (
        "https://app.test/g", "speech", 5, True)


def test_unsupported_verbs_are_actions_and_problems_never_exceptions() -> None:
    body = ('<Response><Dial>+14155550100</Dial><Connect><ConversationRelay url="wss://r.test"/></Connect>'
            '<Start><Transcription/></Start><Stop><Siprec/></Stop><Record/><Connect/></Response>')
    result = walk(parse_twiml(body, "text/xml", URL))
    assert result.actions == (Unsupported("Dial"), Unsupported("Connect/ConversationRelay"),
                              Unsupported("Start/Transcription"), Unsupported("Stop/Siprec"), Unsupported("Record"),
                              Unsupported("Connect"), End())
    assert [(p.code, p.location) for p in result.problems] == [
        (None, "Response/Dial[1]"), (None, "Response/Connect[1]"), (None, "Response/Start[1]"),
        (None, "Response/Stop[1]"), (None, "Response/Record[1]"), (12200, "Response/Connect[2]")]


def test_an_unexecutable_document_only_hangs_up() -> None:
    assert walk(parse_twiml("<Response><Say>x</Say>", "text/xml", URL)).actions == (End(),)
    assert walk(parse_twiml("<Response><Say>x</Say></Response>", "text/plain", URL)).actions == (End(),)


def test_empty_response_ends_the_call() -> None:
    assert actions("<Response/>") == (End(),)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_FRAGMENTS = st.sampled_from(["<Response>", "</Response>", "<Connect>", "</Connect>", '<Stream url="wss://m.test/s">',
                              "</Stream>", '<Parameter name="a"/>', "<Say>", "</Say>", "<Gather>", "</Gather>",
                              '<Pause length="x"/>', "<Redirect/>", "<?xml version='1.0'?>", "&amp;", "&x;", " "])


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.lists(_FRAGMENTS, max_size=12).map("".join), st.text(max_size=80)),
       st.sampled_from(["text/xml", None, "text/html"]))
def test_any_body_gives_actions_and_problems_never_an_exception(body: str, content_type: str | None) -> None:
    result = walk(parse_twiml(body, content_type, URL))
    assert result.actions
    assert isinstance(result.actions[-1], End | Hangup | Redirect | Reject | ConnectStream | Gather)
