"""The parameters Twilio sends: exact values, scenario overrides, callbacks (twilio-voice.md 1, 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from callreplay.twilio.ids import ACCOUNT_SID
from callreplay.twilio.voice_params import (
    GEO_FIELDS,
    call_status_callback_params,
    call_status_for_event,
    connect_action_params,
    rfc2822,
    status_callback_events,
    stream_status_callback_params,
    voice_webhook_params,
)

CALL = "CA" + "1" * 32
STREAM = "MZ" + "2" * 32
WHEN = datetime(2010, 8, 16, 3, 45, 1, tzinfo=UTC)


def test_standard_webhook_parameters() -> None:
    params = voice_webhook_params(CALL, "+14155550100", "+14155550199", "inbound", "ringing")
    assert {k: v for k, v in params.items() if k not in GEO_FIELDS} == {
        "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": CALL, "CallStatus": "ringing",
        "Called": "+14155550199", "Caller": "+14155550100", "Direction": "inbound",
        "From": "+14155550100", "To": "+14155550199",
    }
    assert len(GEO_FIELDS) == 16 and all(params[name] == "" for name in GEO_FIELDS)
    assert list(params) == sorted(params)


def test_scenario_values_win() -> None:
    params = voice_webhook_params(CALL, "+1", "+2", "outbound-api", "in-progress",
                                  extra={"FromCountry": "IL", "CallStatus": "ringing", "StirVerstat": "TN-Validation-Passed-A"})
    assert params["FromCountry"] == "IL"
    assert params["CallStatus"] == "ringing"
    assert params["StirVerstat"] == "TN-Validation-Passed-A"


@pytest.mark.parametrize(("direction", "status", "message"), [
    ("sideways", "ringing", "Direction 'sideways' is not one of inbound, outbound-api"),
    ("inbound", "ringin", "CallStatus 'ringin' is not one of queued"),
])
def test_bad_direction_or_status_is_named(direction: str, status: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        voice_webhook_params(CALL, "+1", "+2", direction, status)


def test_rfc2822_dates() -> None:
    assert rfc2822(WHEN) == "Mon, 16 Aug 2010 03:45:01 +0000"
    assert rfc2822(datetime(2010, 8, 16, 5, 45, 1, tzinfo=timezone(timedelta(hours=2)))) == "Mon, 16 Aug 2010 03:45:01 +0000"
    assert rfc2822(datetime(2010, 8, 16, 3, 45, 1)) == "Mon, 16 Aug 2010 03:45:01 +0000"


def test_status_callback_events_default_repeated_and_space_separated() -> None:
    assert status_callback_events(None) == ("completed",)
    assert status_callback_events(["ringing", "initiated"]) == ("initiated", "ringing")
    assert status_callback_events(["answered completed"]) == ("answered", "completed")
    with pytest.raises(ValueError, match="StatusCallbackEvent 'hungup'"):
        status_callback_events(["hungup"])


def test_event_to_call_status() -> None:
    assert call_status_for_event("answered") == "in-progress"
    assert call_status_for_event("initiated") == "initiated"
    assert call_status_for_event("completed", "no-answer") == "no-answer"


def test_call_status_callback() -> None:
    base = voice_webhook_params(CALL, "+1", "+2", "outbound-api", "in-progress")
    first = call_status_callback_params(base, "initiated", 0, WHEN)
    assert first["SequenceNumber"] == "0"
    assert first["CallbackSource"] == "call-progress-events"
    assert first["Timestamp"] == "Mon, 16 Aug 2010 03:45:01 +0000"
    assert "CallDuration" not in first
    done = call_status_callback_params(base, "completed", 3, WHEN + timedelta(seconds=42), call_duration_s=42)
    assert (done["CallStatus"], done["SequenceNumber"], done["CallDuration"]) == ("completed", "3", "42")
    assert done["Timestamp"] == "Mon, 16 Aug 2010 03:45:43 +0000"
    assert base["CallStatus"] == "in-progress"  # the input is not changed


def test_stream_status_callback() -> None:
    started = stream_status_callback_params(CALL, STREAM, "agent", "stream-started", WHEN)
    assert started == {"AccountSid": ACCOUNT_SID, "CallSid": CALL, "StreamEvent": "stream-started",
                       "StreamName": "agent", "StreamSid": STREAM, "Timestamp": "Mon, 16 Aug 2010 03:45:01 +0000"}
    unnamed = stream_status_callback_params(CALL, STREAM, None, "stream-error", WHEN, error="socket refused")
    assert unnamed["StreamName"] == STREAM and unnamed["StreamError"] == "socket refused"
    with pytest.raises(ValueError, match="StreamEvent 'stream-paused'"):
        stream_status_callback_params(CALL, STREAM, None, "stream-paused", WHEN)


def test_connect_action_params() -> None:
    base = voice_webhook_params(CALL, "+1", "+2", "inbound", "ringing")
    params = connect_action_params(base)
    assert params["CallStatus"] == "in-progress"
    assert {k: v for k, v in params.items() if k != "CallStatus"} == {k: v for k, v in base.items() if k != "CallStatus"}
