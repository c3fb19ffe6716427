"""An example Twilio <-> OpenAI Realtime bridge, the kind of server a callreplay user writes.

callreplay's live mode tests it over real sockets. Its bug switches (``BRIDGE_BUGS``) reintroduce one bug class
each, so every live-mode detector has a server that makes it fire and the same server, switch off, that keeps it
silent. See ``docs/example-bridge.md``.
"""

from examples.bridge.app import create_app
from examples.bridge.config import BUG_SWITCHES, ConfigError, Settings

__all__ = ["BUG_SWITCHES", "ConfigError", "Settings", "create_app"]
