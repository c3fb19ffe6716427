"""The scenario's businesses as a JSON file a target can seed its own database from.

``callreplay exec`` writes it and names it in ``CALLREPLAY_BUSINESSES_FILE``, so an example or test
server configures the same prompts, numbers and voices the detectors compare against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import CallReplayError
from ..scenario.model import BusinessSpec, Scenario


def business_json(spec: BusinessSpec) -> dict[str, Any]:
    settings = dict(spec.settings or {})
    for key in ("ai_prompt", "outbound_ai_prompt"):
        value = settings.get(key)
        if isinstance(value, str) and value.startswith("{"):
            try:
                settings[key] = json.loads(value)
            except ValueError:
                pass
    return {"id": spec.id, "name": spec.name, "phone": spec.phone, "channels": list(spec.channels),
            "active": spec.active, "greeting": spec.greeting, "system_prompt": spec.system_prompt,
            "voice": spec.voice, "settings": settings}


def write_businesses(scenarios: list[Scenario], path: Path) -> Path:
    """One list for all the scenarios; a business id configured two different ways is an error."""
    seen: dict[int, dict[str, Any]] = {}
    for scenario in scenarios:
        for spec in scenario.businesses:
            body = business_json(spec)
            if spec.id in seen and seen[spec.id] != body:
                raise CallReplayError(f"{scenario.file}: business {spec.id} is configured differently in another "
                                      "scenario of this run; exec serves one set of businesses (run them apart)")
            seen[spec.id] = body
    path.write_text(json.dumps(list(seen.values()), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def businesses_from_json(items: Any) -> tuple[BusinessSpec, ...]:
    if not isinstance(items, list):
        raise CallReplayError("the businesses file must hold a JSON list of businesses")
    specs = []
    for item in items:
        settings = dict(item.get("settings") or {}) if item.get("settings") is not None else None
        if settings:
            for key in ("ai_prompt", "outbound_ai_prompt"):
                if isinstance(settings.get(key), dict):
                    settings[key] = json.dumps(settings[key], ensure_ascii=False)
        specs.append(BusinessSpec(id=int(item["id"]), name=item.get("name"), phone=item.get("phone"),
                                  channels=tuple(item.get("channels") or ()), active=item.get("active", True),
                                  greeting=item.get("greeting"), system_prompt=item.get("system_prompt"),
                                  voice=item.get("voice"), settings=settings))
    return tuple(specs)
