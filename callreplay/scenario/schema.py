"""The published JSON Schema of the scenario format, and located, readable validation errors.

``schema.json`` ships in the package so editors can validate and complete scenario files (point
``yaml.schemas`` of the YAML language server at it). The ``pipeline`` overrides are listed from
:mod:`callreplay.pipeline.config`, so the schema and the model can never disagree.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import jsonschema

from ..durations import DURATION_FORMS
from ..errors import ScenarioError
from .yamlsafe import LineMap, path_str


@lru_cache(maxsize=1)
def scenario_schema() -> dict:
    return json.loads(resources.files("callreplay.scenario").joinpath("schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_schema())


def _describe(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _explain(error: jsonschema.ValidationError) -> tuple[str, str | None, tuple]:
    """Turn a jsonschema error into (what was wrong, what was expected, path parts)."""
    parts = tuple(error.absolute_path)
    v = error.validator
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        key = extra[0] if extra else "?"
        return f"unknown key {key!r}", "one of: " + ", ".join(allowed) if allowed else None, parts + (key,)
    if v == "required":
        return error.message.replace("is a required property", "is missing"), "that key to be present", parts
    if v == "enum":
        return f"found {_describe(error.instance)}", "one of: " + ", ".join(map(str, error.validator_value)), parts
    if v == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"found {_describe(error.instance)}", f"a value of type {expected}", parts
    if v in ("minProperties", "maxProperties"):
        keys = sorted(error.schema.get("properties", {}))
        return f"found {_describe(error.instance)}", "exactly one of: " + ", ".join(keys), parts
    if v == "oneOf":
        if error.schema.get("description", "").startswith("250ms, 1.5s") or \
                error.schema is scenario_schema()["$defs"]["duration"]:
            return f"{_describe(error.instance)} is not a duration", DURATION_FORMS, parts
        deeper = _intended_branch(error)
        if deeper is not None:
            return _explain(deeper)
        desc = error.schema.get("description")
        return f"found {_describe(error.instance)}", desc or "a different shape (see the JSON Schema)", parts
    if v == "pattern":
        return f"{_describe(error.instance)} is not a duration", DURATION_FORMS, parts
    return error.message, None, parts


def _intended_branch(error: jsonschema.ValidationError) -> jsonschema.ValidationError | None:
    """For a failed ``oneOf``, the error inside the branch the author evidently meant.

    A mapping is matched to the branch whose ``properties`` name its keys (``{media: ...}`` is the
    media shorthand, not a raw message); otherwise the branch whose errors reach deepest wins.
    """
    if not error.context:
        return None
    branches: dict[int, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    options = error.validator_value
    if isinstance(error.instance, dict):
        for index, subs in sorted(branches.items()):
            props = options[index].get("properties", {}) if isinstance(options[index], dict) else {}
            if props and set(error.instance) <= set(props) and "event" not in props:
                return max(subs, key=lambda e: len(e.absolute_path))
    plausible = {i: subs for i, subs in branches.items()
                 if not all(e.validator in ("type", "enum", "const") and e.absolute_path == error.absolute_path
                            for e in subs)}
    if len(plausible) == 1:
        (subs,) = plausible.values()
        return max(subs, key=lambda e: len(e.absolute_path))
    best = max((e for subs in branches.values() for e in subs), key=lambda e: len(e.absolute_path))
    return best if len(best.absolute_path) > len(error.absolute_path) else None


def validate_document(data: object, lines: LineMap, file: str) -> None:
    """Raise a located ScenarioError for the most relevant schema violation, if any."""
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    errors.sort(key=lambda e: (lines.line_for(tuple(e.absolute_path)) or 0, -len(e.absolute_path)))
    what, expected, parts = _explain(errors[0])
    raise ScenarioError(what, file=file, line=lines.line_for(parts), path=path_str(parts) or None,
                        expected=expected)
