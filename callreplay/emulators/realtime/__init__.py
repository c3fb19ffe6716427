"""An offline stand-in for the realtime voice-LLM services (OpenAI Realtime beta/GA, Gemini Live).

A user's voice-agent server connects to :class:`RealtimeEmulator` on loopback instead of the real
service; it gets the same handshake, validation (:mod:`.rules`, the one source of the session rules),
VAD events and paced audio replies, and every frame is recorded for the detectors.
"""

from .connection import Connection
from .rules import ConfigProblem, validate_session
from .script import RealtimeScript, Rejection, TurnScript
from .server import RealtimeEmulator

__all__ = ["ConfigProblem", "Connection", "RealtimeEmulator", "RealtimeScript", "Rejection", "TurnScript", "validate_session"]
