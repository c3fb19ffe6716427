"""Identifiers Twilio assigns: the replay's account and stable per-call stream SIDs."""

from __future__ import annotations

import hashlib

ACCOUNT_SID = "AC" + "0" * 30 + "42"
API_VERSION = "2010-04-01"
TEST_AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # the default token; never a real account's
REPLAY_AUTH_TOKEN = "replay-auth-token"  # the in-process pipeline's token; never a real credential, redacted anyway


def stream_sid_for(call_sid: str) -> str:
    """A stable ``MZ`` + 32 hex stream SID for a call (the same call gets the same SID on every run)."""
    return "MZ" + hashlib.md5(("stream:" + call_sid).encode()).hexdigest()


def sid_for(prefix: str, seed: str) -> str:
    """A stable Twilio-shaped SID (``prefix`` + 32 hex) derived from ``seed``."""
    return prefix + hashlib.md5((prefix + ":" + seed).encode()).hexdigest()
