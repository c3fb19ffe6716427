"""Live mode from Python: emulators on fixed ports, your server started against them, replays with findings.

``LiveHarness`` is what ``callreplay exec`` does, as an object a test can hold (the pytest fixture
``callreplay_target`` yields one)::

    harness = LiveHarness()
    harness.start_server([sys.executable, "-m", "myapp"], health="/health")   # env points it at the emulators
    outcome = harness.replay("scenarios/live/inbound.yaml")
    assert outcome.status == "pass", outcome.findings
    harness.close()

Each replay starts the emulators on the harness's ports (chosen once, so a server started before
keeps pointing at them) and stops them after; nothing is shared between replays but those ports.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..detectors.base import Severity
from ..errors import CallReplayError
from ..scenario.load import load_scenario
from ..scenario.model import Scenario
from ..twilio.ids import TEST_AUTH_TOKEN
from .exec_cli import ServerLog, free_port, stop_process, wait_healthy
from .fixtures import write_businesses
from .runner import LIVE_PROFILE, LivePlan, run_live
from .session import LiveOptions, emulator_environment


@dataclass
class LiveHarness:
    auth_token: str = TEST_AUTH_TOKEN
    max_wall_s: float = 300.0
    realtime_port: int = field(default_factory=free_port)
    rest_port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="callreplay-live-")))
    target: str | None = None
    process: subprocess.Popen[bytes] | None = None
    log: ServerLog = field(default_factory=ServerLog)

    @property
    def env(self) -> dict[str, str]:
        """The variables a server under test reads to find the emulators (docs/live.md)."""
        return emulator_environment(f"ws://127.0.0.1:{self.realtime_port}/v1/realtime",
                                    f"ws://127.0.0.1:{self.realtime_port}/ws/google.ai.generativelanguage.v1beta."
                                    "GenerativeService.BidiGenerateContent", f"http://127.0.0.1:{self.rest_port}",
                                    self.auth_token, None)

    def start_server(self, argv: list[str], *, port: int = 0, health: str = "/health", timeout_s: float = 20.0,
                     scenarios: tuple[str | Path, ...] = (), extra_env: dict[str, str] | None = None) -> str:
        """Start the server under test (``{port}`` in argv and ``PORT`` carry its port); return its URL."""
        port = port or free_port()
        env = {**os.environ, **self.env, "PORT": str(port), **(extra_env or {})}
        if scenarios:
            loaded = [load_scenario(Path(s)) for s in scenarios]
            env["CALLREPLAY_BUSINESSES_FILE"] = str(write_businesses(loaded, self.workdir / "businesses.json"))
        self.process = subprocess.Popen([a.replace("{port}", str(port)) for a in argv], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        self.log.follow(self.process.stdout, "stdout")
        self.log.follow(self.process.stderr, "stderr")
        problem = wait_healthy(f"http://127.0.0.1:{port}{health}", self.process, timeout_s)
        if problem:
            self.close()
            raise CallReplayError(problem + "\n" + "\n".join(self.log.tail()))
        self.target = f"http://127.0.0.1:{port}"
        return self.target

    def replay(self, scenario: str | Path | Scenario, *, target: str | None = None,
               fail_on: Severity = Severity.ERROR) -> Any:
        """Replay one scenario live; the outcome has ``status``, ``findings`` and the ``result`` dict."""
        from ..runner import RunOptions

        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(Path(scenario))
        url = target or self.target
        if url is None:
            raise CallReplayError("no target: start_server() first, or pass target=URL")
        live = LiveOptions(target=url, auth_token=self.auth_token, max_wall_s=self.max_wall_s,
                           realtime_port=self.realtime_port, rest_port=self.rest_port,
                           server_log=self.log if self.process is not None else None)
        options = RunOptions(write=False, report_dir=self.workdir, fail_on=fail_on)
        [outcome], _ = run_live([LivePlan(loaded, f"{loaded.name}--{LIVE_PROFILE}")], live, options)
        return outcome

    def close(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None and not stream.closed:
                    stream.close()
            self.process = None
