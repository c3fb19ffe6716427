"""The published schema lists exactly the model's overrides; recorded frames reach the session byte for byte."""

import base64

import numpy as np

from callreplay.audio import sources
from callreplay.pipeline.config import OVERRIDE_NAMES
from callreplay.replay import replay
from callreplay.scenario.schema import scenario_schema
from callreplay.testing import CALLER, INBOUND_SID, business, scenario_from_dict


def test_schema_pipeline_keys_match_the_model():
    published = set(scenario_schema()["properties"]["pipeline"]["properties"])
    assert published == {"profile", *OVERRIDE_NAMES}


def test_recorded_payloads_reach_the_session_byte_for_byte_in_order(tmp_path):
    rng = np.random.default_rng(4)
    frames = np.concatenate([sources.speech(2_000_000, 1800, 1), rng.integers(0, 256, (50, 160), dtype=np.uint8),
                             sources.silence(1_000_000)])
    encoded = [base64.b64encode(f.tobytes()).decode() for f in frames]
    scenario = scenario_from_dict({
        "name": "passthrough", "businesses": [business()],
        "steps": [{"at": 0, "webhook": "incoming_call", "params": {"CallSid": INBOUND_SID, "From": CALLER,
                                                                   "To": "+97231234567"}},
                  {"at": 0.8, "call": INBOUND_SID, "ws": "start"},
                  {"at": 0.84, "call": INBOUND_SID, "ws": {"media": {"payloads": encoded}}},
                  {"at": 10, "call": INBOUND_SID, "ws": "stop"}]}, tmp_path)
    result = replay(scenario, "fixed", keep_audio=True)
    received = result.app.sockets[INBOUND_SID].handler.session.received
    assert received == [base64.b64decode(p) for p in encoded]
    ended = next(e for e in result.trace.events if e.kind == "call.ended")
    assert ended.data["appended_frames"] == len(encoded)
