"""The REST emulator driven by the real twilio-python client, as a target would drive it (sheet 6.4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from callreplay.emulators.twilio_rest import NullRestHooks, TwilioRestEmulator
from callreplay.emulators.twilio_rest_model import CallResource, RecordingResource, StreamResource
from callreplay.twilio.ids import ACCOUNT_SID, TEST_AUTH_TOKEN, sid_for

TO, FROM = "+14155550100", "+972501234567"
START = datetime(2026, 1, 8, 9, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class SpyHooks(NullRestHooks):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []

    async def call_created(self, call: CallResource) -> None:
        self.seen.append(("created", call.sid, call.url))

    async def call_updated(self, call: CallResource, changes: dict[str, str]) -> None:
        self.seen.append(("updated", call.sid, changes))

    async def recording_changed(self, call: CallResource, recording: RecordingResource) -> None:
        self.seen.append(("recording", call.sid, recording.status))

    async def stream_changed(self, call: CallResource, stream: StreamResource) -> None:
        self.seen.append(("stream", call.sid, stream.status))


Scenario = Callable[[TwilioRestEmulator, Client, Clock], Awaitable[None]]


def run_against(scenario: Scenario, hooks: SpyHooks | None = None, records: list | None = None,
                auth_token: str = TEST_AUTH_TOKEN) -> None:
    async def main() -> None:
        clock = Clock()
        rest = TwilioRestEmulator(ACCOUNT_SID, TEST_AUTH_TOKEN, clock=clock, hooks=hooks,
                                  record=(lambda kind, data: records.append((kind, data))) if records is not None else None)
        await rest.start()
        try:
            client = Client(ACCOUNT_SID, auth_token)
            client.api.base_url = rest.base_url
            await asyncio.wait_for(scenario(rest, client, clock), timeout=20)
        finally:
            await rest.stop()

    asyncio.run(main())


@pytest.fixture(autouse=True)
def _no_edge_or_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)


def test_create_fetch_and_hang_up_a_call() -> None:
    hooks, records = SpyHooks(), []

    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        call = await asyncio.to_thread(client.calls.create, to=TO, from_=FROM, url="https://app.test/outbound",
                                       status_callback="https://app.test/status",
                                       status_callback_event=["initiated", "answered", "completed"])
        assert call.sid == sid_for("CA", "rest:call:1")
        assert (call.status, call.direction, call.to, call._from) == ("queued", "outbound-api", TO, FROM)
        assert call.date_created == START and call.start_time is None
        assert call.to_formatted == "(415) 555-0100"
        assert call.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call.sid}.json"
        assert call.subresource_uris["streams"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{call.sid}/Streams.json"
        resource = rest.calls[call.sid]
        assert (resource.url, resource.method, resource.events) == ("https://app.test/outbound", "POST",
                                                                     ("initiated", "answered", "completed"))
        rest.set_status(call.sid, "initiated")
        rest.set_status(call.sid, "ringing")
        clock.now = START + timedelta(seconds=42)
        rest.set_status(call.sid, "in-progress")
        fetched = await asyncio.to_thread(client.calls(call.sid).fetch)
        assert fetched.status == "in-progress" and fetched.start_time == START + timedelta(seconds=42)
        clock.now = START + timedelta(seconds=100)
        ended = await asyncio.to_thread(client.calls(call.sid).update, status="completed")
        assert (ended.status, ended.duration, ended.end_time) == ("completed", "58", START + timedelta(seconds=100))

    run_against(scenario, hooks, records)
    sid = sid_for("CA", "rest:call:1")
    assert hooks.seen == [("created", sid, "https://app.test/outbound"), ("updated", sid, {"Status": "completed"})]
    assert [(d["method"], d["resource"], d["status"], d["error_code"]) for _, d in records] == [
        ("POST", "calls.create", 201, None), ("GET", "calls.fetch", 200, None), ("POST", "calls.update", 200, None)]
    assert records[0][1]["params"]["StatusCallbackEvent"] == ["initiated", "answered", "completed"]
    assert all(kind == "twilio.rest" for kind, _ in records)


def test_update_twiml_recordings_and_streams() -> None:
    hooks = SpyHooks()

    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        call = await asyncio.to_thread(client.calls.create, to=TO, from_=FROM, twiml="<Response><Pause/></Response>")
        rest.set_status(call.sid, "in-progress")
        twiml = '<Response><Say>transferring</Say></Response>'
        await asyncio.to_thread(client.calls(call.sid).update, twiml=twiml)
        assert rest.calls[call.sid].twiml == twiml
        recording = await asyncio.to_thread(client.calls(call.sid).recordings.create)
        assert (recording.status, recording.channels, recording.track, recording.source) == (
            "in-progress", 1, "both", "StartCallRecordingAPI")
        assert recording.sid.startswith("RE") and len(recording.sid) == 34
        clock.now = START + timedelta(seconds=7)
        stopped = await asyncio.to_thread(client.calls(call.sid).recordings(recording.sid).update, status="stopped")
        assert (stopped.status, stopped.duration) == ("stopped", "7")
        listed = await asyncio.to_thread(client.calls(call.sid).recordings.list)
        assert [r.sid for r in listed] == [recording.sid]
        stream = await asyncio.to_thread(client.calls(call.sid).streams.create, url="wss://media.test/fork",
                                         name="fork", parameter1_name="tenant", parameter1_value="acme")
        assert (stream.status, stream.name, stream.call_sid) == ("in-progress", "fork", call.sid)
        assert rest.calls[call.sid].streams[stream.sid].parameters == {"tenant": "acme"}
        stopped_stream = await asyncio.to_thread(client.calls(call.sid).streams("fork").update, status="stopped")
        assert stopped_stream.status == "stopped" and stopped_stream.sid == stream.sid

        everywhere = await asyncio.to_thread(client.recordings.list)
        assert [r.sid for r in everywhere] == [recording.sid]
        rest.set_status(call.sid, "completed")
        assert await asyncio.to_thread(client.calls(call.sid).delete) is True
        assert call.sid not in rest.calls

    run_against(scenario, hooks)
    assert [event for event, _, _ in hooks.seen] == ["created", "updated", "recording", "recording", "stream", "stream"]


def test_list_calls_pages_newest_first() -> None:
    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        sids = [(await asyncio.to_thread(client.calls.create, to=TO, from_=FROM, url="https://a.test/x")).sid
                for _ in range(3)]
        listed = await asyncio.to_thread(client.calls.list, page_size=2)
        assert [c.sid for c in listed] == list(reversed(sids))
        only = await asyncio.to_thread(client.calls.list, status="queued", to="+15550000000")
        assert only == []

    run_against(scenario)


@pytest.mark.parametrize(("kwargs", "code", "status"), [
    ({"to": TO, "from_": FROM}, 21200, 400),
    ({"to": "+1555", "from_": FROM, "url": "https://a.test/x"}, 21211, 400),
    ({"to": "not a number", "from_": FROM, "url": "https://a.test/x"}, 21211, 400),
    ({"to": TO, "from_": FROM, "url": "https://a.test/x", "timeout": 601}, 21208, 400),
    ({"to": TO, "from_": FROM, "url": "https://a.test/x", "method": "PUT"}, 21209, 400),
    ({"to": TO, "from_": FROM, "twiml": "<Response>" + "<Pause/>" * 500 + "</Response>"}, 32018, 400),
    ({"to": TO, "from_": FROM, "url": "ftp://a.test/x"}, 21205, 400),
    ({"to": TO, "from_": FROM, "url": "https://a.test/x", "status_callback_event": ["hungup"]}, 21200, 400),
])
def test_create_call_errors_raise_twilio_rest_exception_with_the_code(kwargs: dict, code: int, status: int) -> None:
    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(client.calls.create, **kwargs)
        assert (raised.value.code, raised.value.status) == (code, status)
        assert rest.calls == {}

    run_against(scenario)


def test_call_state_errors_are_21220_and_unknown_calls_20404() -> None:
    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        call = await asyncio.to_thread(client.calls.create, to=TO, from_=FROM, url="https://a.test/x")
        for action in (lambda: client.calls(call.sid).update(twiml="<Response/>"),
                       lambda: client.calls(call.sid).recordings.create(),
                       lambda: client.calls(call.sid).streams.create(url="wss://m.test/s")):
            with pytest.raises(TwilioRestException) as raised:
                await asyncio.to_thread(action)
            assert raised.value.code == 21220
        canceled = await asyncio.to_thread(client.calls(call.sid).update, status="canceled")
        assert canceled.status == "canceled"
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(client.calls(call.sid).update, status="completed")
        assert raised.value.code == 21220
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(client.calls("CA" + "f" * 32).fetch)
        assert (raised.value.code, raised.value.status) == (20404, 404)

    run_against(scenario)


def test_wrong_credentials_are_401_20003() -> None:
    records: list = []

    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(client.calls.create, to=TO, from_=FROM, url="https://a.test/x")
        assert (raised.value.code, raised.value.status) == (20003, 401)

    run_against(scenario, records=records, auth_token="wrong")
    assert [(d["status"], d["error_code"]) for _, d in records] == [(401, 20003)]


def test_unknown_endpoint_is_404_20404_with_twilio_error_body_and_recorded() -> None:
    records: list = []

    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        url = f"{rest.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Conferences.json"
        response = await asyncio.to_thread(requests.get, url, auth=(ACCOUNT_SID, TEST_AUTH_TOKEN), timeout=5)
        assert response.status_code == 404
        assert response.json() == {"code": 20404, "message": f"The requested resource /2010-04-01/Accounts/{ACCOUNT_SID}"
                                   "/Conferences.json was not found",
                                   "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}
        other = f"{rest.base_url}/2010-04-01/Accounts/AC{'9' * 32}/Calls.json"
        response = await asyncio.to_thread(requests.get, other, auth=(ACCOUNT_SID, TEST_AUTH_TOKEN), timeout=5)
        assert response.status_code == 404

    run_against(scenario, records=records)
    assert [(d["method"], d["resource"], d["status"], d["error_code"]) for _, d in records] == [
        ("GET", "unknown", 404, 20404), ("GET", "unknown", 404, 20404)]


def test_credentials_in_params_are_not_recorded() -> None:
    records: list = []

    async def scenario(rest: TwilioRestEmulator, client: Client, clock: Clock) -> None:
        await asyncio.to_thread(client.calls.create, to="sip:agent@example.test", from_=FROM, url="https://a.test/x",
                                sip_auth_username="u", sip_auth_password="secret")

    run_against(scenario, records=records)
    params = records[0][1]["params"]
    assert "SipAuthPassword" not in params and "SipAuthUsername" not in params and params["To"] == "sip:agent@example.test"
