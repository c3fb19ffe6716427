"""Live mode's guards: a target that is down, a scenario too long for the wall clock, hosts it may not reach."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from helpers import BRIDGE_SCENARIOS, ROOT, cli_env, exec_bridge, run_cli

from callreplay.live.guard import HostGuard
from callreplay.live.session import LiveOptions, LiveSession
from callreplay.live.shim import install_environment

pytestmark = pytest.mark.live


def test_a_target_that_is_not_listening_is_a_clear_input_error(tmp_path):
    done = run_cli("run", str(BRIDGE_SCENARIOS / "inbound-both-prompts.yaml"), "--target", "http://127.0.0.1:9",
                   "--report-dir", str(tmp_path))
    assert done.returncode == 2
    assert "is not listening" in done.stderr and "Traceback" not in done.stderr + done.stdout


def test_the_target_may_also_come_from_the_environment(tmp_path):
    done = run_cli("run", str(BRIDGE_SCENARIOS / "inbound-both-prompts.yaml"), "--report-dir", str(tmp_path),
                   env={"CALLREPLAY_TARGET": "http://127.0.0.1:9"})
    assert done.returncode == 2 and "127.0.0.1:9 is not listening" in done.stderr


def test_a_scenario_longer_than_max_wall_is_refused_before_it_runs(tmp_path):
    code, results, output = _exec(tmp_path, "--max-wall", "2s")
    assert code == 2, output
    assert "longer than --max-wall 2 s" in results["bridge-inbound-both-prompts"]["error"]


def _exec(tmp_path, *extra):
    return exec_bridge(tmp_path, "inbound-both-prompts.yaml", extra=extra)


def test_live_mode_connects_to_loopback_and_the_named_target_only():
    guard = HostGuard("10.1.2.3")
    assert guard.allowed("http://127.0.0.1:8000/x") and guard.allowed("ws://localhost:1/y")
    assert guard.allowed("https://10.1.2.3/voice") and guard.allowed("ws://[::1]:5/z")
    assert not guard.allowed("https://api.twilio.com/2010-04-01") and not guard.allowed("wss://example.com/media")
    session = LiveSession(LiveOptions(target="http://127.0.0.1:8000"))
    # the TLS tunnel in front of a plain-HTTP server: wss to the target's own host is played as ws
    assert session.socket_url("wss://127.0.0.1:8000/media-stream") == "ws://127.0.0.1:8000/media-stream"
    assert session.socket_url("wss://evil.example.com/media-stream") is None
    assert session.socket_url("https://127.0.0.1:8000/media-stream") is None  # not a WebSocket URL
    assert session.socket_url("ws://127.0.0.1:8000/media-stream") is None  # Twilio opens wss:// only (31922)


def test_redirect_shim_sends_service_hosts_to_the_emulators_and_refuses_the_rest(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import http.server, json, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.end_headers(); self.wfile.write(json.dumps(self.path).encode())
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.handle_request()
    """)], stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    env = {"TWILIO_API_BASE": f"http://127.0.0.1:{port}", "PATH": "/usr/bin:/bin"}
    install_environment(env, tmp_path / "shim")
    probe = textwrap.dedent("""
        import json, requests
        out = {"twilio": requests.get("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json", timeout=5).json()}
        try:
            requests.get("http://example.com/", timeout=5)
            out["other"] = "reached"
        except requests.ConnectionError as exc:
            out["other"] = "refused: " + str(exc)[:2000]
        print(json.dumps(out))
    """)
    try:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60,
                              cwd=ROOT)
    finally:
        server.wait(10)
        server.stdout.close()
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["twilio"] == "/2010-04-01/Accounts/AC1/Calls.json"  # reached the stand-in, path kept
    assert result["other"].startswith("refused") and "callreplay --redirect" in result["other"]


def test_tls_emulators_and_the_bridge_trust_the_runs_certificate(tmp_path):
    code, results, output = _exec(tmp_path, "--tls")
    assert code == 0, output
    assert "OPENAI_REALTIME_URL=wss://127.0.0.1:" in output and results["bridge-inbound-both-prompts"]["status"] == "pass"


def _servers_started_by(output: str) -> set[str]:
    """The processes of the server this exec run started: those whose environment has the PORT exec chose
    (its children inherit it), so another test's servers never count."""
    port = re.search(r"exec: starting .* on port (\d+)", output)
    assert port, output
    marker = f"PORT={port.group(1)}".encode() + b"\0"
    found = subprocess.run(["pgrep", "-f", "[-]m examples[.]bridge"], capture_output=True, text=True).stdout.split()
    mine = set()
    for pid in found:
        try:
            if marker in (Path("/proc") / pid / "environ").read_bytes():
                mine.add(pid)
        except OSError:
            continue  # gone meanwhile
    return mine


def _left_running(output: str, grace_s: float = 3.0) -> str:
    """Those processes still there after ``grace_s`` (a killed process takes a moment to go, a server left
    running stays), described for the failure message; empty when none is left."""
    deadline = time.monotonic() + grace_s
    while (left := _servers_started_by(output)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not left:
        return ""
    return subprocess.run(["ps", "-o", "pid,ppid,pgid,etime,args", "-p", ",".join(sorted(left))],
                          capture_output=True, text=True).stdout


def test_ctrl_c_keeps_finished_live_replays_stops_the_server_and_exits_130(tmp_path):
    # the second call lasts 40 s, so Ctrl-C lands inside it however loaded the machine is
    long_call = tmp_path / "long-call.yaml"
    long_call.write_text((BRIDGE_SCENARIOS / "session-never-confirmed.yaml").read_text(encoding="utf-8")
                         .replace("name: bridge-session-never-confirmed", "name: bridge-long-call")
                         .replace("{at: 8s,", "{at: 40s,"), encoding="utf-8")
    argv = [sys.executable, "-m", "callreplay", "exec", "-s", str(BRIDGE_SCENARIOS / "inbound-both-prompts.yaml"),
            "-s", str(long_call), "--report-dir", str(tmp_path / "r"),
            "--no-html", "--", sys.executable, "-m", "examples.bridge"]
    process = subprocess.Popen(argv, cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any("bridge-inbound-both-prompts" in line for line in lines):
        time.sleep(0.2)  # the first replay is reported; the second (40 s) is under way
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    process.wait(60)
    reader.join(10)
    process.stdout.close()
    output = "".join(lines)
    assert process.returncode == 130, output
    statuses = {r["scenario"]: r["status"] for r in json.loads((tmp_path / "r" / "run.json").read_text())["results"]}
    assert statuses == {"bridge-inbound-both-prompts": "pass", "bridge-long-call": "skipped"}, output
    assert "Traceback" not in output
    left = _left_running(output)
    assert not left, f"exec left its server running:\n{left}"


def test_a_server_behind_a_wrapper_script_is_stopped_with_everything_it_started(tmp_path):
    """``exec -- sh -c '...'``: the server is the wrapper's child; exec stops the whole process group."""
    wrapper = f"{sys.executable} -m examples.bridge; true"  # '; true' keeps sh from exec-ing the server itself
    result = run_cli("exec", "-s", str(BRIDGE_SCENARIOS / "inbound-both-prompts.yaml"), "--report-dir",
                     str(tmp_path / "r"), "--no-html", "--", "sh", "-c", wrapper)
    assert result.returncode == 0, result.stdout + result.stderr
    left = _left_running(result.stdout + result.stderr)
    assert not left, f"the wrapper's server outlived exec:\n{left}"
