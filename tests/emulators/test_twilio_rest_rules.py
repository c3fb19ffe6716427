"""REST emulator rules without the twilio client: lifecycle, paging, phone numbers, plain requests."""

from __future__ import annotations

import asyncio

import pytest
import requests

from callreplay.emulators.twilio_rest import TwilioRestEmulator
from callreplay.emulators.twilio_rest_model import check_phone_number, page_of, stream_parameters
from callreplay.twilio.ids import ACCOUNT_SID, TEST_AUTH_TOKEN

AUTH = (ACCOUNT_SID, TEST_AUTH_TOKEN)
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls"


@pytest.mark.parametrize(("number", "param", "code"), [
    ("+14155550100", "To", None), ("+972501234567", "To", None), ("client:alice", "To", None),
    ("sip:a@b.test", "To", None), ("", "To", 21201), (None, "From", 21200), ("+1555", "To", 21211),
    ("4155550100", "To", 21211), ("+1abc", "From", 21210),
])
def test_phone_numbers_must_be_possible_e164(number: str | None, param: str, code: int | None) -> None:
    error = check_phone_number(number, param)
    assert (error.code if error else None) == code


def test_paging_envelope() -> None:
    items = [{"n": i} for i in range(5)]
    page = page_of(items, "calls", "/x/Calls.json", {"PageSize": ["2"], "Page": ["1"]})
    assert page == {"calls": [{"n": 2}, {"n": 3}], "first_page_uri": "/x/Calls.json?PageSize=2&Page=0",
                    "next_page_uri": "/x/Calls.json?PageSize=2&Page=2",
                    "previous_page_uri": "/x/Calls.json?PageSize=2&Page=0", "page": 1, "page_size": 2,
                    "start": 2, "end": 3, "uri": "/x/Calls.json?PageSize=2&Page=1"}
    last = page_of(items, "calls", "/x/Calls.json", {"PageSize": ["2"], "Page": ["2"]})
    assert last["next_page_uri"] is None and last["calls"] == [{"n": 4}]
    empty = page_of([], "calls", "/x", {})
    assert (empty["page_size"], empty["next_page_uri"], empty["previous_page_uri"]) == (50, None, None)


def test_stream_parameters_in_order_and_out_of_range_refused() -> None:
    form = {"Parameter2.Name": ["b"], "Parameter2.Value": ["2"], "Parameter1.Name": ["a"], "Parameter1.Value": ["1"]}
    assert list(stream_parameters(form).items()) == [("a", "1"), ("b", "2")]
    with pytest.raises(Exception, match="Parameter1 to Parameter99"):
        stream_parameters({"Parameter100.Name": ["x"]})


def test_lifecycle_and_set_status_errors() -> None:
    async def main() -> None:
        rest = TwilioRestEmulator(ACCOUNT_SID, TEST_AUTH_TOKEN)
        with pytest.raises(RuntimeError, match="not started"):
            _ = rest.base_url
        await rest.start()
        try:
            assert rest.base_url.startswith("http://127.0.0.1:")
            with pytest.raises(RuntimeError, match="already started"):
                await rest.start()
            with pytest.raises(KeyError, match="no call CAx"):
                rest.set_status("CAx", "ringing")
        finally:
            await rest.stop()
        await rest.stop()  # idempotent

    asyncio.run(main())


def test_repeated_keys_current_recording_and_delete_over_plain_http() -> None:
    async def main() -> None:
        records: list = []
        rest = TwilioRestEmulator(ACCOUNT_SID, TEST_AUTH_TOKEN, record=lambda kind, data: records.append(data))
        await rest.start()
        try:
            def post(path: str, data: list[tuple[str, str]]) -> requests.Response:
                return requests.post(rest.base_url + path, data=data, auth=AUTH, timeout=5)

            created = await asyncio.to_thread(post, CALLS + ".json", [
                ("To", "+14155550100"), ("From", "+14155550199"), ("Url", "https://a.test/x"),
                ("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered completed")])
            assert created.status_code == 201
            sid = created.json()["sid"]
            assert rest.calls[sid].events == ("ringing", "answered", "completed")
            rest.set_status(sid, "in-progress")
            started = await asyncio.to_thread(post, f"{CALLS}/{sid}/Recordings.json", [("RecordingChannels", "dual")])
            assert started.json()["channels"] == 2
            paused = await asyncio.to_thread(post, f"{CALLS}/{sid}/Recordings/Twilio.CURRENT.json", [("Status", "paused")])
            assert paused.json()["status"] == "paused" and paused.json()["sid"] == started.json()["sid"]
            bad = await asyncio.to_thread(post, f"{CALLS}/{sid}/Recordings.json", [("RecordingTrack", "left")])
            assert (bad.status_code, bad.json()["code"]) == (400, 21200)
            rest.set_status(sid, "completed")
            assert rest.calls[sid].recordings[started.json()["sid"]].status == "stopped"
            deleted = await asyncio.to_thread(requests.delete, f"{rest.base_url}{CALLS}/{sid}.json", auth=AUTH, timeout=5)
            assert deleted.status_code == 204 and sid not in rest.calls
        finally:
            await rest.stop()
        assert [r["resource"] for r in records] == ["calls.create", "recordings.create", "recordings.update",
                                                    "recordings.create", "calls.delete"]

    asyncio.run(main())


def test_a_failing_hook_is_a_500_with_twilio_body_and_recorded() -> None:
    class Broken:
        async def call_created(self, call: object) -> None:
            raise RuntimeError("driver bug")

    async def main() -> None:
        records: list = []
        rest = TwilioRestEmulator(ACCOUNT_SID, TEST_AUTH_TOKEN, hooks=Broken(),  # type: ignore[arg-type]
                                  record=lambda kind, data: records.append(data))
        await rest.start()
        try:
            response = await asyncio.to_thread(requests.post, rest.base_url + CALLS + ".json", auth=AUTH, timeout=5,
                                               data={"To": "+14155550100", "From": "+14155550199", "Url": "https://a.test/x"})
            assert (response.status_code, response.json()["code"]) == (500, 20500)
            too_big = await asyncio.to_thread(requests.post, rest.base_url + CALLS + ".json", auth=AUTH, timeout=5,
                                              data={"Twiml": "x" * (2 * 1024 * 1024)})
            assert too_big.status_code == 413 and too_big.json()["status"] == 413
        finally:
            await rest.stop()
        assert records[0]["hook_error"] == "RuntimeError: driver bug"
        assert [r["status"] for r in records] == [500, 413]

    asyncio.run(main())
