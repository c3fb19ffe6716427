"""The ``callreplay_target`` fixture: live mode in a test, against the user's own server.

```python
def test_my_server_keeps_directions_apart(callreplay_target):
    callreplay_target.start_server([sys.executable, "-m", "myapp"], scenarios=["scenarios/live/inbound.yaml"])
    outcome = callreplay_target.replay("scenarios/live/inbound.yaml")
    assert outcome.status == "pass", [f.message for f in outcome.findings]
```

The fixture is a :class:`callreplay.live.harness.LiveHarness`: the emulators' ports are chosen when the
test starts (``callreplay_target.env`` holds the variables that point a server at them, for a server the
test starts itself), every replay runs the emulators on those ports, and the server started with
``start_server`` is stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .live.harness import LiveHarness


@pytest.fixture
def callreplay_target() -> Iterator[LiveHarness]:
    """A live-mode harness; the server it started (if any) is stopped after the test."""
    harness = LiveHarness()
    try:
        yield harness
    finally:
        harness.close()
