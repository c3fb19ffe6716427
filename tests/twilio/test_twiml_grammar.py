"""The grammar table agrees with twilio-python: TwiML its builders produce raises no problem."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, Gather, Start, Stop, VoiceResponse

from callreplay.twilio.twiml import parse_twiml
from callreplay.twilio.twiml_grammar import ATTRIBUTES, CHILDREN, VERBS


def test_builder_output_is_clean() -> None:
    response = VoiceResponse()
    response.say("Hello", voice="Polly.Joanna", language="en-US", loop=1)
    response.play("https://a.test/x.wav", loop=2, digits="1w")
    response.pause(length=2)
    gather = Gather(input="speech dtmf", action="/g", timeout=3, action_on_empty_result=True, speech_timeout="auto")
    gather.say("press one")
    response.append(gather)
    start = Start(action="/s")
    start.stream(url="wss://m.test/fork", name="fork", track="both_tracks", status_callback="/cb",
                 status_callback_method="GET")
    response.append(start)
    connect = Connect(action="/after", method="POST")
    stream = connect.stream(url="wss://m.test/s", name="agent")
    stream.parameter(name="tenant", value="acme")
    response.append(connect)
    stop = Stop()
    stop.stream(name="fork")
    response.append(stop)
    response.redirect("/next", method="GET")
    document = parse_twiml(str(response), "text/xml", "https://app.test/voice")
    assert document.problems == []
    assert [verb.name for verb in document.verbs] == ["Say", "Play", "Pause", "Gather", "Start", "Connect", "Stop",
                                                      "Redirect"]


def test_every_verb_is_a_voice_response_builder() -> None:
    builders = {name for name in dir(VoiceResponse) if not name.startswith("_")}
    for verb in VERBS:
        assert verb.lower() in builders, verb
    assert CHILDREN["Connect"] >= {"Stream", "ConversationRelay"}
    assert ATTRIBUTES["Stream"] >= {"url", "name", "track", "statusCallback", "statusCallbackMethod"}
    assert ATTRIBUTES["Gather"] >= {"actionOnEmptyResult", "finishOnKey", "numDigits", "speechTimeout"}
