"""The published JSON Schema of the scenario format, and located, readable validation errors.

``schema.json`` ships in the package so editors can validate and complete scenario files (point
``yaml.schemas`` of the YAML language server at it). The ``pipeline`` overrides are listed from
:mod:`callreplay.pipeline.config`, so the schema and the model can never disagree.
"""

from __future__ import annotations

import difflib
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


def did_you_mean(word: object, choices: list[str] | tuple[str, ...]) -> str:
    """``; did you mean 'rms'?`` when a choice is close to ``word``, else empty."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_keys(error: jsonschema.ValidationError) -> list[tuple[str, str | None, tuple]]:
    """One explanation per unknown key of an ``additionalProperties`` error, each with a suggestion."""
    parts = tuple(error.absolute_path)
    allowed = sorted(error.schema.get("properties", {}))
    extra = sorted((str(k) for k in set(error.instance) - set(allowed)), key=str)
    expected = "one of: " + ", ".join(allowed) if allowed else None
    return [(f"unknown key {key!r}{did_you_mean(key, allowed)}", expected, parts + (key,)) for key in extra] or \
        [("unknown key", expected, parts)]


def _shape(schema: object) -> str:
    """A few words for one branch of an either-or (``oneOf``) in the schema."""
    if not isinstance(schema, dict):
        return "a value"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _shape(scenario_schema()["$defs"].get(name, {})) if name != "duration" else "a duration"
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if schema.get("type") == "object" and schema.get("properties"):
        keys = list(schema["properties"])
        if "event" in keys and "event" in schema.get("required", []):
            return "a raw Twilio message {event: ...}"
        joined = "|".join(keys[:8]) + ("|..." if len(keys) > 8 else "")
        return f"a mapping with {'one of ' if schema.get('maxProperties') == 1 else ''}{joined}"
    kind = schema.get("type")
    return f"a {' or '.join(kind) if isinstance(kind, list) else kind}" if kind else "a value"


def _explain(error: jsonschema.ValidationError) -> tuple[str, str | None, tuple]:
    """Turn a jsonschema error into (what was wrong, what was expected, path parts)."""
    parts = tuple(error.absolute_path)
    v = error.validator
    if v == "additionalProperties":
        return _unknown_keys(error)[0]
    if v == "required":
        return error.message.replace("is a required property", "is missing"), "that key to be present", parts
    if v == "enum":
        options = [str(x) for x in error.validator_value]
        return f"found {_describe(error.instance)}{did_you_mean(error.instance, options)}", \
            "one of: " + ", ".join(options), parts
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
        shapes = "; or ".join(_shape(branch) for branch in error.validator_value)
        return f"found {_describe(error.instance)}", "one of: " + shapes, parts
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
        # keys that match no branch exactly (a typo): the mapping branch sharing most keys, or the only one
        mappings = {i: set(options[i].get("properties", {})) for i in branches
                    if isinstance(options[i], dict) and options[i].get("properties")
                    and "event" not in options[i].get("required", [])}
        if "event" not in error.instance and mappings:
            best = max(mappings, key=lambda i: (len(mappings[i] & set(error.instance)), -i))
            if len(mappings) == 1 or mappings[best] & set(error.instance) or len(error.instance) == 1:
                return max(branches[best], key=lambda e: (e.validator == "additionalProperties",
                                                          len(e.absolute_path)))
    plausible = {i: subs for i, subs in branches.items()
                 if not all(e.validator in ("type", "enum", "const") and e.absolute_path == error.absolute_path
                            for e in subs)}
    if len(plausible) == 1:
        (subs,) = plausible.values()
        return max(subs, key=lambda e: len(e.absolute_path))
    best = max((e for subs in branches.values() for e in subs), key=lambda e: len(e.absolute_path))
    return best if len(best.absolute_path) > len(error.absolute_path) else None


MAX_REPORTED = 20


def _explanations(error: jsonschema.ValidationError) -> list[tuple[str, str | None, tuple]]:
    if error.validator == "additionalProperties":
        return _unknown_keys(error)
    if error.validator == "oneOf":
        deeper = _intended_branch(error)
        if deeper is not None and deeper.validator == "additionalProperties":
            return _unknown_keys(deeper)
    return [_explain(error)]


def schema_errors(data: object, lines: LineMap, file: str) -> list[ScenarioError]:
    """Every schema violation of a document, located and explained, in file order (at most MAX_REPORTED)."""
    found: dict[tuple[str | None, str], ScenarioError] = {}
    for error in _validator().iter_errors(data):
        for what, expected, parts in _explanations(error):
            path = path_str(parts) or None
            found.setdefault((path, what), ScenarioError(what, file=file, line=lines.line_for(parts), path=path,
                                                         expected=expected))
    ordered = sorted(found.values(), key=lambda e: (e.line or 0, -(e.path or "").count("."), e.path or ""))
    # an error about a mapping and one about a key inside it at the same line say the same thing: keep the deeper
    kept = [e for e in ordered if not any(o is not e and o.line == e.line and o.path and e.path and
                                          o.path.startswith(e.path) and len(o.path) > len(e.path) for o in ordered)]
    return kept[:MAX_REPORTED]


def validate_document(data: object, lines: LineMap, file: str) -> None:
    """Raise a located ScenarioError for the first schema violation; ``.others`` holds the rest, so one run
    reports every mistake of the file."""
    errors = schema_errors(data, lines, file)
    if errors:
        first = errors[0]
        first.others = errors[1:]
        raise first
