"""The realtime emulator in its own process: the run sees its sessions, their events and who closed them."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.asyncio.client import connect

from callreplay.emulators.realtime import RealtimeScript
from callreplay.live.realtime_process import RealtimeProcess


def test_a_session_in_the_child_is_recorded_in_the_run_with_its_times(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the child imports the same callreplay from anywhere
    rows: list[tuple] = []
    asked: list[str] = []

    def script_for(conn):
        asked.append(conn.id)
        return RealtimeScript(greeting_duration_s=0.2)

    async def scenario() -> str:
        process = RealtimeProcess(RealtimeScript(), record=lambda *row: rows.append(row),
                                  on_audio=lambda conn, audio: False, script_for=script_for)
        await process.start()
        try:
            async with connect(process.openai_url + "?model=gpt-realtime",
                               additional_headers={"Authorization": "Bearer sk-test"}) as ws:
                created = json.loads(await ws.recv())
            await asyncio.sleep(0.2)
        finally:
            await process.stop()
        assert [c.closed_by for c in process.connections] == ["client"]
        return created["type"]

    before = time.monotonic_ns()
    assert asyncio.run(scenario()) == "session.created"
    assert asked == ["rt1"]  # the script was asked of the run when the session connected
    kinds = [kind for _, _, kind, _ in rows]
    assert kinds[0] == "realtime.connected" and kinds[-1] == "realtime.closed"
    assert all(conn == "rt1" and t_ns >= before for conn, t_ns, _, _ in rows)


def test_a_child_whose_output_nobody_reads_is_still_stopped_in_bounded_time():
    """asyncio's wait() also waits for the child's pipes: a stdout whose reading was paused (its buffer
    full) never saw EOF, and stopping the emulator hung for ever at 200 concurrent calls."""
    import sys

    async def scenario() -> float:
        process = RealtimeProcess(RealtimeScript(), record=lambda *row: None, on_audio=lambda conn, audio: False,
                                  script_for=lambda conn: RealtimeScript())
        # a child that writes far more than the pipe and the reader's buffer hold, then exits
        process._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'x' * 4_000_000)",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        await asyncio.sleep(0.5)  # its output fills the buffer and reading pauses
        started = time.monotonic()
        await asyncio.wait_for(process._kill(), 15)
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 5
