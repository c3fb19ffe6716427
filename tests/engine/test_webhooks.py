"""Spec §3: business resolution by To (first-active fallback), TwiML parameters, direction normalisation."""

import pytest

from callreplay.pipeline.webhooks import normalize_call_direction
from callreplay.scenario.model import WebhookStep


def step(route="incoming_call", **params):
    return WebhookStep(index=0, at_us=0, line=1, path="steps[0]", route=route, request_path=route, params=params)


BUSINESSES = [
    {"id": 1, "name": "Inactive", "phone": "+97230000001", "active": False, "settings": {"ai_prompt": "a"}},
    {"id": 2, "name": "First active", "phone": "+97230000002", "settings": {"ai_prompt": "b"}},
    {"id": 3, "name": "Third", "phone": "+97230000003", "settings": {"ai_prompt": "c"}},
]


@pytest.mark.parametrize("to,business,via", [
    ("+97230000003", 3, "phone"),
    ("+972 3000-0003", 3, "phone"),
    ("+97230000001", 1, "phone"),            # the active flag is not checked on a phone match
    ("+15550000000", 2, "first-active"),     # unknown number: the first active business, silently
    ("", None, "none"),
])
def test_business_resolution_by_to(make_ctx, to, business, via):
    ctx = make_ctx("legacy", BUSINESSES)
    ctx.calls.webhooks.handle(step(CallSid="CA1", From="+972501234567", To=to))
    resolved = next(e for e in ctx.trace.events if e.kind == "webhook.business_resolved")
    assert (resolved.data["business_id"], resolved.data["via"]) == (business, via)


def test_incoming_twiml_has_no_direction_parameter(make_ctx):
    ctx = make_ctx("legacy", BUSINESSES)
    response = ctx.calls.webhooks.handle(step(CallSid="CA1", From="+972501234567", To="+97230000003"))
    assert response.body == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect action="https://voice.example.test/webhook/'
        'stream_ended"><Stream track="inbound_track" url="wss://voice.example.test/ws/twilio-media">'
        '<Parameter name="CallSid" value="CA1" /><Parameter name="To" value="+97230000003" />'
        '<Parameter name="From" value="+972501234567" /><Parameter name="business_id" value="3" />'
        '</Stream></Connect></Response>')


def test_outbound_twiml_parameters_in_order(make_ctx):
    ctx = make_ctx("legacy", BUSINESSES)
    s = WebhookStep(index=0, at_us=0, line=1, path="steps[0]", route="outbound_call", request_path="outbound_call",
                    params={"CallSid": "CA2", "To": "+972501234567", "From": "+97230000003"},
                    query={"business_id": "3", "lead_id": "9", "lead_name": "Dana"})
    response = ctx.calls.webhooks.handle(s)
    assert list(response.stream_parameters) == ["CallSid", "To", "From", "direction", "lead_id", "lead_name",
                                                "business_id", "business_name"]
    assert response.stream_parameters["direction"] == "outbound"


def test_empty_to_fails_the_call_log_create(make_ctx):
    ctx = make_ctx("legacy", BUSINESSES)
    ctx.calls.webhooks.handle(step(CallSid="CA1", From="+972501234567", To=""))
    assert any("Failed to create/update call_log" in e.data.get("message", "") for e in ctx.trace.events)
    assert "CA1" not in ctx.store.call_logs


@pytest.mark.parametrize("raw,expected", [(None, "unknown"), ("", "unknown"), ("inbound", "inbound"),
                                          ("outbound-api", "outbound"), ("Outbound-Dial", "outbound"),
                                          ("trunking", "unknown")])
def test_normalize_call_direction(raw, expected):
    assert normalize_call_direction(raw) == expected


def test_a_stream_parameter_without_a_name_is_dropped_as_twilio_drops_it():
    from callreplay.replay import stream_parameters

    twiml = ('<Response><Connect><Stream url="wss://x/media-stream"><Parameter value="orphan"/>'
             '<Parameter name="direction" value="inbound"/></Stream></Connect></Response>')
    assert stream_parameters(twiml) == {"direction": "inbound"}
