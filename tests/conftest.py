"""Fixtures shared by the component tests (engine, pipeline): a bare pipeline context and its log lines."""

from datetime import datetime

import pytest

from callreplay.clock import VirtualClock
from callreplay.pipeline.app import PipelineApp
from callreplay.pipeline.config import PipelineConfig
from callreplay.pipeline.context import PipelineContext
from callreplay.pipeline.profiles import load_profile
from callreplay.pipeline.store import BusinessStore
from callreplay.scenario.model import BusinessSpec
from callreplay.scheduler import Scheduler
from callreplay.trace import Trace


@pytest.fixture
def make_ctx():
    """A bare pipeline context (no replay) for testing one component against the spec's numbers."""

    def build(profile="legacy", businesses=(), **config):
        clock = VirtualClock(datetime.fromisoformat("2026-01-08T10:00:00+02:00"))
        specs = tuple(b if isinstance(b, BusinessSpec) else BusinessSpec(**b) for b in businesses)
        ctx = PipelineContext(clock, Scheduler(clock), Trace(), BusinessStore.from_specs(specs),
                              PipelineConfig(**config), load_profile(profile))
        PipelineApp(ctx)
        return ctx

    return build


@pytest.fixture
def messages():
    """The log lines a context emitted, in order."""
    return lambda ctx: [e.data["message"] for e in ctx.trace.events if e.kind == "log"]


def pytest_collection_modifyitems(config, items):
    """With ``-n`` (pytest-xdist), the loopback tests run one at a time on one worker, the rest beside them.

    Live-mode and example-bridge tests run on the wall clock against real servers; two tests at once would
    measure each other. Inside a module, the runs its tests read may overlap on purpose, a bounded few at
    a time (``tests/live/helpers.py``: ``LiveRuns``), each against its own server and ports.
    """
    loopback = pytest.mark.xdist_group("loopback")
    for item in items:
        if item.get_closest_marker("live") or "examples" in item.path.parts:
            item.add_marker(loopback)
