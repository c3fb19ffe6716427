"""The trace vocabulary is a contract: read kinds are declared and emitted, emitted kinds are declared.

Kinds read are the string constants naming a kind in the detectors, results, expectations and the
report; kinds emitted are those of every shipped scenario under the profiles it names, and every
literal kind passed to an ``emit`` in the package.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from shipped import FILES, rel, replayed, scenario

import callreplay
from callreplay.trace_kinds import KINDS, LIVE_ONLY_KINDS

PACKAGE = Path(callreplay.__file__).parent
READERS = [PACKAGE / "detectors", PACKAGE / "report", PACKAGE / "results.py", PACKAGE / "expectations.py",
           PACKAGE / "summary.py"]
PREFIXES = {name.partition(".")[0] for name in KINDS if "." in name}
KIND_RE = re.compile(r"[a-z_]+\.[a-z_]+(\.[a-z_]+)*")


def _sources(paths: list[Path]) -> list[Path]:
    return [f for p in paths for f in (sorted(p.rglob("*.py")) if p.is_dir() else [p])]


def kinds_read() -> set[str]:
    found = set()
    for path in _sources(READERS):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KIND_RE.fullmatch(node.value) \
                    and node.value.partition(".")[0] in PREFIXES:
                found.add(node.value)
    return found


def kinds_in_emit_calls() -> set[str]:
    found = set()
    for path in _sources([PACKAGE]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                found |= {a.value for a in node.args[2:4] if isinstance(a, ast.Constant) and isinstance(a.value, str)
                          and (a.value == "log" or KIND_RE.fullmatch(a.value))}
    return found


@cache
def emitted() -> dict[str, set[str]]:
    """Kind -> the data fields seen, over every shipped scenario under the profiles it names."""
    fields: dict[str, set[str]] = {}
    for path in FILES:
        name = rel(path)
        for profile in scenario(name).profiles_to_run():
            if ":" in profile:
                continue
            result, _ = replayed(name, profile)
            for event in result.trace.events:
                fields.setdefault(event.kind, set()).update(event.data)
    return fields


def test_the_readers_read_something():
    assert {"prompt.built", "prompt.mismatch_check", "cache.get", "call.ended"} <= kinds_read()


def test_every_kind_read_is_declared_and_emitted_by_a_shipped_scenario():
    read = kinds_read()
    assert sorted(read - set(KINDS)) == []
    assert sorted(read - set(emitted()) - LIVE_ONLY_KINDS) == []  # live kinds: tests/live checks them


def test_every_kind_emitted_is_declared_with_its_fields():
    undeclared = sorted(set(emitted()) - set(KINDS))
    assert undeclared == []
    extra = {kind: sorted(seen - set(KINDS[kind].fields)) for kind, seen in emitted().items()}
    assert {kind: fields for kind, fields in extra.items() if fields} == {}


def test_every_kind_the_package_emits_is_declared():
    assert sorted(kinds_in_emit_calls() - set(KINDS)) == []
