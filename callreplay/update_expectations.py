"""Write what a replay found into the scenario's ``expect:`` for that profile (``--update-expectations``).

An imported capture becomes a regression test in one step, and an intended behaviour change is a
reviewable diff. Only the lines of ``expect.<profile>`` change: the file is read with round-trip
YAML (``ruamel.yaml``) to locate that block, the block is rendered anew, and every other byte of
the file (comments, key order, quoting, blank lines) is kept. The result is loaded through the
real scenario loader before anything is written, so an update never leaves a broken file.

What is written: every finding of severity warning or error (info too under ``fail_on=info``),
grouped by detector and call in the order they occurred (``at_least`` when one occurred more than
once), or ``clean`` when there is none. Latency bounds already in the block are kept as they were:
a replay that missed one is still failing after the update (:func:`latency_unmet`), since a
snapshot of a latency is no bound.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from .detectors.base import Finding, Severity
from .errors import ScenarioError
from .expectations import Verdict

_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+:/-]*$")


@dataclass(frozen=True)
class Update:
    """One ``expect.<profile>`` block rewritten (or ``changed`` False when it already said that)."""

    file: Path
    profile: str
    changed: bool
    block: str


def expectation_entries(findings: Iterable[Finding], fail_on: Severity = Severity.ERROR) -> list[dict[str, Any]]:
    """The findings a verdict would hold against the replay as ``expect`` entries; empty means ``clean``.

    Warnings and errors always (``clean`` forbids them), infos too when they reach the gate.
    """
    threshold = min(fail_on.rank, Severity.WARNING.rank)
    counts: dict[tuple[str, str | None], int] = {}
    for f in findings:
        if f.severity.rank >= threshold:
            key = (f.detector, f.call)
            counts[key] = counts.get(key, 0) + 1
    entries = []
    for (detector, call), n in counts.items():
        entry: dict[str, Any] = {"finding": detector}
        if call:
            entry["call"] = call
        if n > 1:
            entry["at_least"] = n
        entries.append(entry)
    return entries


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and not text.endswith(":") and YAML(typ="safe").load(text) == text:
        return text  # plain only where YAML reads it back as this very string (not a number, bool, null)
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def render_block(profile: str, entries: list[dict[str, Any]], indent: int) -> str:
    """The ``<profile>: ...`` block at ``indent`` spaces, one flow mapping per entry."""
    pad = " " * indent
    if not entries:
        return f"{pad}{_scalar(profile)}: clean\n"
    lines = [f"{pad}{_scalar(profile)}:"]
    for entry in entries:
        body = ", ".join(f"{k}: {_scalar(v)}" for k, v in entry.items())
        lines.append(f"{pad}  - {{{body}}}")
    return "\n".join(lines) + "\n"


def _kept_metrics(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [dict(e) for e in value if isinstance(e, dict) and "metric" in e]


def _trim_trailing_comments(lines: list[str], start: int, end: int) -> int:
    """Blank and comment-only lines at the end of a block belong to what follows: leave them."""
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _next_key_line(mapping: CommentedMap, key: Any, fallback: int) -> int:
    keys = list(mapping)
    i = keys.index(key)
    return mapping.lc.key(keys[i + 1])[0] if i + 1 < len(keys) else fallback


def _splice(text: str, profile: str, entries: list[dict[str, Any]], file: Path) -> tuple[str, str]:
    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(text)
    except YAMLError as exc:
        raise ScenarioError(f"cannot read the file as YAML: {exc}", file=str(file)) from None
    if not isinstance(doc, CommentedMap):
        raise ScenarioError("the top level is not a mapping", file=str(file))
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    expect = doc.get("expect")
    if "expect" not in doc or expect is None:
        block = render_block(profile, entries, 2)
        if "expect" in doc:  # a bare ``expect:`` line: the block goes right under it
            at = doc.lc.key("expect")[0] + 1
            return "".join(lines[:at] + [block] + lines[at:]), block
        return "".join(lines) + "expect:\n" + block, block
    if not isinstance(expect, CommentedMap) or expect.fa.flow_style() or not expect:
        raise ScenarioError("is written in flow style, or is not a mapping", file=str(file),
                            line=doc.lc.key("expect")[0] + 1, path="expect",
                            expected="one profile per line, to be updated in place")
    top_end = _next_key_line(doc, "expect", len(lines))
    if profile in expect:
        line, col = expect.lc.key(profile)
        entries = entries + _kept_metrics(expect[profile])
        end = _trim_trailing_comments(lines, line, _next_key_line(expect, profile, top_end))
        block = render_block(profile, entries, col)
        return "".join(lines[:line] + [block] + lines[end:]), block
    last = list(expect)[-1]
    line, col = expect.lc.key(last)
    end = _trim_trailing_comments(lines, line, top_end)
    block = render_block(profile, entries, col)
    return "".join(lines[:end] + [block] + lines[end:]), block


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise writers of one file (pytest-xdist workers updating different profiles of it)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: one writer at a time is then the user's care
        yield
        return
    with open(path, "rb+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def latency_unmet(verdict: Verdict | None) -> bool:
    """True when a latency bound of the verdict was missed: an update keeps the bound, so it still fails."""
    return verdict is not None and any(not result.met for result in verdict.latency)


def update_expectation(path: Path, profile: str, findings: Iterable[Finding],
                       fail_on: Severity = Severity.ERROR) -> Update:
    """Rewrite ``expect.<profile>`` of the scenario file at ``path`` from ``findings``."""
    from .scenario.load import parse_scenario

    path = Path(path)
    entries = expectation_entries(findings, fail_on)
    with _locked(path):
        text = path.read_text(encoding="utf-8")
        new_text, block = _splice(text, profile, entries, path)
        if new_text == text:
            return Update(path, profile, False, block)
        parse_scenario(new_text, path)  # raises a located ScenarioError rather than write a broken file
        path.write_text(new_text, encoding="utf-8")
    return Update(path, profile, True, block)
