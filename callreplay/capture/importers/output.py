"""Writing an imported scenario: exact durations, deterministic YAML, and no clobbered files.

Every importer ends here. Steps are written one per line as JSON flow mappings (JSON is YAML), so
a raw Twilio message appears exactly as recorded and the file diffs well; the rest is
``yaml.safe_dump`` with fixed options. The same input therefore gives byte-identical output.
Files are first written to a hidden staging folder next to the target and moved into place only
when everything succeeded, and an existing file is never replaced without ``force``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...durations import parse_duration
from ..capture_file import format_error, read_side_yaml
from ..redact import Redactor

TEMPLATE_MARK = "TEMPLATE"


def format_at(us: int) -> str:
    """Microseconds as an exact duration: ``0s``, ``0.8s``, ``1.234567s`` (checked to round-trip)."""
    us = int(us)
    whole, frac = divmod(us, 1_000_000)
    text = f"{whole}s" if frac == 0 else f"{whole}.{frac:06d}".rstrip("0") + "s"
    if parse_duration(text) != us:  # float rounding on huge values: fall back to integer microseconds
        text = f"{us}us"
    return text


def step_line(step: dict[str, Any]) -> str:
    return "- " + json.dumps(step, ensure_ascii=False, separators=(", ", ": "))


def _dump(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)


@dataclass
class ScenarioDoc:
    """Everything an importer decided, before it becomes text."""

    name: str
    description: str
    clock_start: str
    steps: list[dict[str, Any]]
    businesses: list[dict[str, Any]]
    businesses_template: bool
    evidence: dict[str, Any]
    timezone: str = "UTC"              # neutral; a log format names its own (prosaas: Asia/Jerusalem)
    header: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = [f"# {line}" for line in self.header]
        out.append(_dump({"name": self.name, "description": self.description}).rstrip("\n"))
        out.append(_dump({"clock": {"start": self.clock_start, "timezone": self.timezone}}).rstrip("\n"))
        if self.businesses:
            if self.businesses_template:
                out.append(f"# {TEMPLATE_MARK}: fill in the business settings below. The import could not see them;")
                out.append("# every value marked TEMPLATE is a placeholder (see evidence.assumptions).")
            body = _dump({"businesses": self.businesses}).rstrip("\n")
            if self.businesses_template:
                body = "\n".join(_mark_template_lines(body.split("\n")))
            out.append(body)
        out.append("steps:" if self.steps else "steps: []")
        out.extend(step_line(s) for s in self.steps)
        out.append(_dump({"evidence": self.evidence}).rstrip("\n"))
        return "\n".join(out) + "\n"


def _mark_template_lines(lines: list[str]) -> list[str]:
    marked = []
    for line in lines:
        if TEMPLATE_MARK in line or "ASSUMED" in line:
            indent = len(line) - len(line.lstrip(" -"))
            marked.append(" " * indent + f"# {TEMPLATE_MARK}: fill in (placeholder below)")
        marked.append(line)
    return marked


def load_businesses(path: Path, redactor: Redactor) -> list[dict[str, Any]]:
    """A ``--businesses`` file: a YAML list in the scenario format (or a mapping with ``businesses:``)."""
    data = read_side_yaml(path, "a YAML list of businesses")
    if isinstance(data, dict) and "businesses" in data:
        data = data["businesses"]
    if not isinstance(data, list) or not all(isinstance(b, dict) and "id" in b for b in data):
        raise format_error(path, 1, "not a list of businesses", "a YAML list of {id, name, phone, settings}")
    return [redactor.value(b) for b in data]


class Output:
    """Stages the scenario and its side files, then moves them into place together."""

    def __init__(self, target: Path, inputs: list[Path], force: bool) -> None:
        self.target = Path(target)
        self.force = force
        resolved_inputs = {Path(p).resolve() for p in inputs}
        if self.target.resolve() in resolved_inputs:
            raise format_error(self.target, None, "the output is one of the inputs", "a new file name (-o)")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=".callreplay-import-", dir=self.target.parent))
        self.names: list[str] = []
        self._inputs = resolved_inputs

    @property
    def stem(self) -> str:
        return self.target.stem

    def side_path(self, name: str) -> Path:
        """Where to stage a file that will sit next to the scenario."""
        if (self.target.parent / name).resolve() in self._inputs:
            raise format_error(self.target.parent / name, None, "a side file would replace an input",
                               "a different -o name")
        self.names.append(name)
        return self.stage / name

    def commit(self, text: str) -> list[Path]:
        finals = [self.target.parent / n for n in self.names] + [self.target]
        if not self.force:
            existing = [str(p) for p in finals if p.exists()]
            if existing:
                self.abort()
                raise format_error(existing[0], None, "the file exists and would be overwritten",
                                   "a new -o name, or --force")
        (self.stage / self.target.name).write_text(text, encoding="utf-8")
        self._check_loads(self.stage / self.target.name)
        for name in self.names + [self.target.name]:
            (self.stage / name).replace(self.target.parent / name)
        self.abort()
        return finals

    def _check_loads(self, staged: Path) -> None:
        """Never write a scenario that ``validate`` would refuse: the import fails instead, saying why."""
        from ...errors import ScenarioError
        from ...scenario.load import load_scenario

        try:
            load_scenario(staged)
        except ScenarioError as exc:
            self.abort()
            where = f"line {exc.line}" + (f" ({exc.path})" if exc.path else "") if exc.line else "the scenario"
            raise format_error(self._inputs_text, None, f"the input cannot be turned into a valid scenario: at "
                               f"{where} of the result, {exc.message}", exc.expected) from None

    @property
    def _inputs_text(self) -> str:
        return ", ".join(sorted(str(p) for p in self._inputs)) or str(self.target)

    def abort(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


@dataclass
class ImportReport:
    """What an import produced and what it had to assume or skip, for the CLI to print."""

    scenario: Path
    files: list[Path]
    steps: int
    assumptions: list[str]
    problems: list[str]
    unmatched_lines: int = 0
