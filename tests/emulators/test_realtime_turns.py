"""Per-turn model behaviour: entry N of ``turns`` changes only the reply to the Nth ``response.create``
(it fails, or comes in other chunks, or is shorter), and a scenario's ``model.turns`` becomes that script."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

from test_realtime_emulator import BETA, FAST, run, until
from websockets.asyncio.client import connect

from callreplay.emulators.realtime import Rejection, TurnScript
from callreplay.live.session import script_from
from callreplay.scenario.load import parse_scenario

SCRIPT = FAST.__class__(delivery_rate=math.inf, greeting_duration_s=0.2, response_duration_s=0.2,
                        turns=(TurnScript(), TurnScript(fail_response_create=Rejection("server_error",
                                                                                       type="server_error")),
                               TurnScript(chunk_bytes=100, response_duration_s=0.1)))


def test_only_the_named_turn_fails_and_the_next_one_has_its_own_chunks():
    replies: list[list[dict]] = []

    async def scenario(emu, rec):
        async with connect(emu.openai_url, additional_headers=BETA) as ws:
            await until(ws, "conversation.created")
            for n in range(4):
                await ws.send(json.dumps({"type": "response.create", "event_id": f"r{n + 1}"}))
                replies.append(await until(ws, "error" if n == 1 else "response.done"))

    rec = run(scenario, script=SCRIPT)
    assert [r[-1]["type"] for r in replies] == ["response.done", "error", "response.done", "response.done"]
    assert replies[1][-1]["error"]["code"] == "server_error" and replies[1][-1]["error"]["event_id"] == "r2"
    third = {len(base64.b64decode(e["delta"])) for e in replies[2] if e["type"] == "response.audio.delta"}
    fourth = {len(base64.b64decode(e["delta"])) for e in replies[3] if e["type"] == "response.audio.delta"}
    assert third == {100} and fourth == {960}  # turn 3 in its chunks; turn 4 in 20 ms of pcm16 24 kHz again
    assert len(rec.of("realtime.response_created")) == 3


def test_a_scenarios_model_turns_become_the_emulators_turns(tmp_path):
    text = """\
name: turns
steps: [{at: 0s, webhook: incoming_call, params: {CallSid: CA1, To: "+15550000002", From: "+15550000001"}}]
model:
  turns:
    - {}
    - {fail_response_create: {code: server_error}}
    - {response_duration: 1500ms, delivery_rate: 2.0, chunk_bytes: 400}
"""
    scenario = parse_scenario(text, Path(tmp_path / "t.yaml"))
    script = script_from(scenario.model)
    assert script.turns == (TurnScript(), TurnScript(fail_response_create=Rejection("server_error")),
                            TurnScript(response_duration_s=1.5, delivery_rate=2.0, chunk_bytes=400))


def test_a_misspelt_turn_key_is_a_located_error_with_a_suggestion(tmp_path):
    import pytest

    from callreplay.errors import ScenarioError

    text = "name: t\nsteps: []\nmodel:\n  turns:\n    - {fail_respons_create: {code: x}}\n"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, Path(tmp_path / "t.yaml"))
    line = caught.value.all_lines()[0]
    assert ":5 model.turns[0].fail_respons_create" in line and "did you mean 'fail_response_create'" in line
