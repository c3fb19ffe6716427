"""Twilio's TwiML flow over real sockets, against a small scripted server: verbs, redirects, the Connect
action when the server closes the stream, and TwiML that breaks Twilio's rules becoming a finding."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable

import pytest
import yaml
from aiohttp import WSMsgType, web
from helpers import findings, run_cli

pytestmark = pytest.mark.live
SID_GOOD, SID_BAD, SID_RUDE, SID_BOOM = ("CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32, "CA" + "4" * 32)
PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'


def twiml(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/xml")


def on_start(answer: Callable[[web.WebSocketResponse], Awaitable[None]]) -> Callable[
        [web.Request], Awaitable[web.WebSocketResponse]]:
    """A media-socket route that runs ``answer`` when Twilio's ``start`` arrives."""
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT and json.loads(message.data).get("event") == "start":
                await answer(ws)
        return ws
    return handler


def twiml_app() -> web.Application:
    async def voice(request: web.Request) -> web.Response:
        return twiml(f'{PROLOG}<Response><Say>Please hold on</Say><Pause length="1"/><Redirect>/second</Redirect>'
                     '</Response>')

    async def second(request: web.Request) -> web.Response:
        return twiml(f'{PROLOG}<Response><Connect action="/after">'
                     f'<Stream url="wss://{request.host}/media"><Parameter name="tenant" value="42"/></Stream>'
                     '</Connect></Response>')

    async def after(request: web.Request) -> web.Response:
        return twiml("<Response><Hangup/></Response>")

    async def bad(request: web.Request) -> web.Response:
        return twiml(f'{PROLOG}<Response><Connect><Stream url="ws://{request.host}/media" track="both_tracks"/>'
                     '</Connect><Sayy>typo</Sayy></Response>')

    async def boom(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error")

    async def rude(request: web.Request) -> web.Response:
        return twiml(f'<Response><Connect><Stream url="wss://{request.host}/media-rude"/></Connect></Response>')

    async def reject_then_end(ws: web.WebSocketResponse) -> None:  # messages Twilio rejects, then the end
        await ws.send_str(json.dumps({"event": "media", "streamSid": "MZ" + "0" * 32, "media": {"payload": "//8="}}))
        await ws.send_bytes(b"\x00\x01")
        await ws.send_str("not json")
        await ws.close()

    async def end(ws: web.WebSocketResponse) -> None:  # the server ends the stream as soon as it has the start
        await ws.close()

    media_rude, media = on_start(reject_then_end), on_start(end)

    app = web.Application()
    app.router.add_post("/voice", voice)
    app.router.add_post("/second", second)
    app.router.add_post("/after", after)
    app.router.add_post("/bad", bad)
    app.router.add_get("/media", media)
    app.router.add_post("/rude", rude)
    app.router.add_post("/boom", boom)
    app.router.add_get("/media-rude", media_rude)
    return app


@pytest.fixture
def scripted_server():
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(twiml_app())
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def scenario(path, name, sid, url_path):
    body = {"name": name, "businesses": [{"id": 1, "name": "Flow Test", "phone": "+15550001111"}],
            "steps": [{"at": 0, "webhook": url_path, "params": {"CallSid": sid, "From": "+15550002222",
                                                               "To": "+15550001111"}},
                      {"at": "2500ms", "http": {"method": "GET", "path": "/voice-not-a-route"}}],
            "expect": {"live": "clean"}}
    path.write_text(yaml.safe_dump(body))
    return path


def test_verbs_redirect_connect_action_and_invalid_twiml(tmp_path, scripted_server):
    good = scenario(tmp_path / "good.yaml", "flow-good", SID_GOOD, "/voice")
    bad = scenario(tmp_path / "bad.yaml", "flow-bad", SID_BAD, "/bad")
    rude = scenario(tmp_path / "rude.yaml", "flow-rude", SID_RUDE, "/rude")
    boom = scenario(tmp_path / "boom.yaml", "flow-boom", SID_BOOM, "/boom")
    done = run_cli("run", str(good), str(bad), str(rude), str(boom), "--concurrency", "4", "--target", scripted_server,
                   "--report-dir", str(tmp_path / "r"),
                   "--json", str(tmp_path / "out.json"), "--no-html")
    results = {r["scenario"]: r for r in json.loads((tmp_path / "out.json").read_text())["results"]}
    assert results["flow-good"]["status"] == "pass", done.stdout + done.stderr
    trace = [json.loads(line) for line in (tmp_path / "r" / "traces" / "flow-good--live.jsonl").read_text().splitlines()]
    verbs = [e["data"]["verb"] for e in trace if e["kind"] == "twiml.verb"]
    assert verbs == ["Say", "Pause", "Redirect", "ConnectStream", "Hangup"]
    purposes = [e["data"]["purpose"] for e in trace if e["kind"] == "webhook.request"]
    assert purposes == ["voice-url", "redirect", "connect-action"]  # the server closed the stream: action asked
    [started] = [e for e in trace if e["kind"] == "call.started"]
    assert started["data"]["custom_parameters"] == {"tenant": "42"}  # <Parameter>s become customParameters
    [invalid] = findings(results["flow-bad"], "twiml-invalid")
    assert set(invalid["details"]["codes"]) >= {"31941", "12200"}
    assert not findings(results["flow-good"], "twiml-invalid")
    rejected = {f["details"]["problem"] for f in findings(results["flow-rude"], "stream-message-rejected")}
    assert rejected == {"wrong-stream-sid", "binary-frame", "not-json"}
    assert not findings(results["flow-good"], "stream-message-rejected")
    [crash] = findings(results["flow-boom"], "handler-crash")
    assert crash["details"] == {"status": 500, "what": "webhook"}
    assert not findings(results["flow-good"], "handler-crash")
