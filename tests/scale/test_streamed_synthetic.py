"""A long synthetic step streams in windows and replays exactly as the whole batch did."""

import sys

import pytest

import callreplay.feeds as feeds
from callreplay.replay import replay
from callreplay.testing import INBOUND_SID, business, scenario_from_dict


def _call(minutes: int, *, simple: bool, faults: dict | None = None) -> dict:
    seconds = minutes * 60
    media = {"at": 0.84, "call": INBOUND_SID, "ws": {"media": [{"speech": {"duration": "4s", "rms": 1500}},
                                                              {"silence": "2s"}]}, "for": f"{seconds}s"}
    if faults:
        media["faults"] = faults
    steps = [{"at": 0, "webhook": "incoming_call",
              "params": {"CallSid": INBOUND_SID, "From": "+972501234567", "To": "+97231234567"}},
             {"at": 0.8, "call": INBOUND_SID, "ws": "start"}, media,
             {"at": 30.5, "call": INBOUND_SID, "ws": {"mark": "m1"}},
             *({"at": t, "call": INBOUND_SID, "realtime": {"respond": {"duration": "3s"}}} for t in range(20, seconds, 20)),
             {"at": seconds + 1, "call": INBOUND_SID, "ws": "stop"}]
    return {"name": f"long-{minutes}", "businesses": [business()], "steps": steps,
            "pipeline": {"max_realtime_seconds_per_call": f"{seconds + 60}s", "max_audio_frames_per_call": seconds * 60,
                         "simple_mode": simple}}


@pytest.mark.parametrize(("simple", "impl"), [(True, "fast"), (False, "fast"), (False, "reference")])
def test_windows_give_the_trace_of_the_whole_batch(tmp_path, monkeypatch, simple, impl):
    scenario = scenario_from_dict(_call(4, simple=simple), tmp_path)  # 12,000 frames
    whole = replay(scenario, "fixed", audio_impl=impl).trace.dumps()
    monkeypatch.setattr(feeds, "WINDOW_FRAMES", 1_700)       # just above a slice: many slides
    monkeypatch.setattr(feeds, "STREAM_ABOVE_FRAMES", 1_000)
    streamed_feeds = []
    original = feeds.start_feed

    def spy(*args, **kwargs):
        feed = original(*args, **kwargs)
        streamed_feeds.append(feed)
        return feed

    monkeypatch.setattr(sys.modules["callreplay.replay"], "start_feed", spy)
    streamed = replay(scenario, "fixed", audio_impl=impl).trace.dumps()
    assert streamed_feeds and streamed_feeds[0].paced is not None and streamed_feeds[0].base > 10_000
    assert streamed == whole


def test_steps_with_faults_or_short_ones_are_built_whole(tmp_path):
    faulty = scenario_from_dict(_call(25, simple=True, faults={"drop": 3}), tmp_path, "f.yaml")
    short = scenario_from_dict(_call(2, simple=True), tmp_path, "s.yaml")
    for scenario in (faulty, short):
        step = next(s for s in scenario.steps if getattr(s, "media", None))
        batch, paced = feeds.media_feed_source(scenario, step, 820_000)
        assert paced is None and len(batch) == -(-step.media.for_us // 20_000) - (3 if scenario is faulty else 0)


def test_a_long_step_holds_one_window(tmp_path):
    scenario = scenario_from_dict(_call(60, simple=True), tmp_path)
    step = next(s for s in scenario.steps if getattr(s, "media", None))
    batch, paced = feeds.media_feed_source(scenario, step, 820_000)
    assert paced is not None and paced.total == 180_000 and len(batch) == feeds.WINDOW_FRAMES
    whole = feeds.expand_media(scenario, step, 820_000)
    later = paced.window(100_000, 5)
    assert later.payload.tobytes() == whole.payload[100_000:100_005].tobytes()
    for column in ("arrival_us", "seq", "chunk", "timestamp_ms"):
        assert getattr(later, column).tolist() == getattr(whole, column)[100_000:100_005].tolist()
