"""Helpers shared by callreplay's tests and by users testing their own profiles and detectors.

``scenario_from_dict`` writes a scenario to a folder and loads it through the real loader, so a
test exercises exactly what a user's file would; ``replay_findings`` replays it and runs the
detectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .detectors import run_detectors
from .detectors.base import Finding
from .replay import ReplayResult, replay
from .scenario.load import load_scenario
from .scenario.model import Scenario

INBOUND_SID = "CA" + "1" * 32
OUTBOUND_SID = "CA" + "2" * 32
BUSINESS_PHONE = "+97231234567"
CALLER = "+972501234567"


def business(id: int = 1, *, ai_prompt: Any = "אתה נציג שירות של {{business_name}}. עזור ללקוח ואסוף פרטים.",
             outbound_ai_prompt: Any = "אתה מתקשר מטעם {{business_name}} כדי להציע חבילת שירות חדשה ללקוח.",
             phone: str = BUSINESS_PHONE, name: str = "מרפאת השיניים", **extra: Any) -> dict[str, Any]:
    settings = {"ai_prompt": ai_prompt, "outbound_ai_prompt": outbound_ai_prompt, **extra.pop("settings", {})}
    return {"id": id, "name": name, "phone": phone, "greeting": "שלום, איך אפשר לעזור?", "settings": settings,
            **extra}


def inbound_call(sid: str = INBOUND_SID, *, at: float = 0.0, talk: str = "20s", to: str = BUSINESS_PHONE,
                 caller: str = CALLER, end: str = "stop") -> list[dict[str, Any]]:
    """Webhook, connected, start, speech/silence audio for ``talk``, then ``stop`` (or ``close``).

    The default numbers are those of the modelled deployment's examples; any E.164 pair works (``to`` must
    be a business's ``phone`` or channel for the call to be routed)."""
    steps = [
        {"at": at, "webhook": "incoming_call",
         "params": {"CallSid": sid, "From": caller, "To": to, "Direction": "inbound"}},
        {"at": at + 0.8, "call": sid, "ws": "connected"},
        {"at": at + 0.82, "call": sid, "ws": "start"},
        {"at": at + 0.84, "call": sid, "ws": {"media": [{"speech": {"duration": "3s", "rms": 1500}},
                                                       {"silence": "2s"}]}, "for": talk},
    ]
    from .durations import parse_duration

    steps.append({"at": at + 0.9 + parse_duration(talk) / 1e6, "call": sid, "ws": end})
    return steps


def write_recording(path: Path, frames: int, *, speech_us: int = 2_000_000, silence_us: int = 1_000_000,
                    seed: int = 7) -> Path:
    """A JSON-Lines recording of ``frames`` Twilio media messages, numbered as Twilio numbers them after
    ``connected`` and ``start``: a speech/silence pattern (``speech_us`` then ``silence_us``) repeated."""
    import base64
    import json

    from .audio import sources

    pattern = [base64.b64encode(f.tobytes()).decode() for f in sources.speech(speech_us, 1500, seed)]
    pattern += [base64.b64encode(f.tobytes()).decode() for f in sources.silence(silence_us)]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(frames):
            fh.write(json.dumps({"event": "media", "sequenceNumber": str(i + 3), "streamSid": "MZ" + "0" * 32,
                                 "media": {"track": "inbound", "chunk": str(i + 1), "timestamp": str(i * 20),
                                           "payload": pattern[i % len(pattern)]}}) + "\n")
    return Path(path)


def scenario_from_dict(data: dict[str, Any], folder: Path, name: str = "scenario.yaml") -> Scenario:
    path = Path(folder) / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


def replay_findings(scenario: Scenario, profile: str = "legacy", **kwargs: Any) -> tuple[ReplayResult, list[Finding]]:
    result = replay(scenario, profile, **kwargs)
    return result, run_detectors(result)
