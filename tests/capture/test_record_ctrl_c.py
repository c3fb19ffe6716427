"""`callreplay record` as a user runs it: Ctrl-C mid-call stops it cleanly, with every capture line intact."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp
import websockets

from .refapp import BUSINESS_PHONE, CALL_SID, CALLER, make_app, serve, speech_frames, twilio_messages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the proxy never listened")


async def _call_in_progress(tmp_path) -> tuple[subprocess.Popen, str]:
    app_runner, app_port = await serve(make_app({BUSINESS_PHONE: 7}))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "callreplay", "record", "--listen", f"127.0.0.1:{port}",
                             "--target", f"http://127.0.0.1:{app_port}", "--out", str(tmp_path / "captures")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        await asyncio.get_running_loop().run_in_executor(None, _wait_listening, port, proc)
        form = {"CallSid": CALL_SID, "From": CALLER, "To": BUSINESS_PHONE, "Direction": "inbound"}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/webhook/incoming_call", data=form) as resp:
                assert resp.status == 200
                twiml = await resp.text()
        url = twiml.split('url="')[1].split('"')[0]
        assert url.startswith(f"ws://127.0.0.1:{port}/")
        async with websockets.connect(url) as ws:
            for text in twilio_messages(speech_frames(0.4))[:-1]:  # no stop: the call is still up
                await ws.send(text)
            await asyncio.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(ws.wait_closed(), timeout=10)
            except TimeoutError:
                pass
            code = ws.close_code
        out, err = await asyncio.get_running_loop().run_in_executor(None, lambda: proc.communicate(timeout=15))
        return proc, f"{code}\n{out}\n{err}"
    finally:
        if proc.poll() is None:
            proc.kill()
        await app_runner.cleanup()


def test_ctrl_c_mid_call_closes_the_socket_and_the_files(tmp_path):
    proc, output = asyncio.run(_call_in_progress(tmp_path))
    code, stdout = output.split("\n", 1)
    assert proc.returncode == 0, output
    assert code == "1001", output  # going away
    assert "stopped: capture files closed" in stdout
    captures = [p for p in (tmp_path / "captures").glob("CA*.jsonl")]
    assert len(captures) == 1
    records = [json.loads(line) for line in captures[0].read_text(encoding="utf-8").splitlines()]
    assert records[0]["type"] == "capture"
    kinds = [r["type"] for r in records]
    assert kinds.count("ws.in") >= 20 and kinds[-1] == "ws.close"
    assert os.path.getsize(captures[0]) == len(captures[0].read_bytes())
