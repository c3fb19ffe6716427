"""Split bound instructions into the parts each source contributed, and find the text a call should have had.

The builders' layouts (``pipeline/prompt_text.py``) are: system rules (+ a direction sentence), an optional
appointment block, a ``BUSINESS PROMPT (...)`` header label, the business prompt body, and a ``CALL TYPE:``
footer label. Instructions may have been sanitised (newlines collapsed), so the markers are found with
whitespace-tolerant patterns; text no pattern explains is shown as ``other``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CallReplayError
from ..pipeline.constants import FIELD_OF_DIRECTION, replace_placeholders
from ..scenario.load import load_scenario

_RULES_END = re.compile(r"repeating the last question\."
                        r"(\s*(You initiated this call\.|Caller contacted the business\.))?")
_APPOINTMENT = re.compile(r"APPOINTMENT SCHEDULING")
_HEADER = re.compile(r"BUSINESS PROMPT \([^)]*\):")
_FOOTER = re.compile(r"CALL TYPE:")
FIELD_OF = FIELD_OF_DIRECTION


@dataclass(frozen=True)
class Segment:
    source: str      # rules | appointment | header | body | footer | other
    label: str
    text: str
    flagged: bool = False


def segments(text: str, body_label: str = "business prompt", body_flagged: bool = False) -> list[Segment]:
    """Cut ``text`` at the layout markers; the concatenated segment texts equal ``text``."""
    cuts: list[tuple[int, str]] = [(0, "other")]
    rules = _RULES_END.search(text)
    if text.startswith("You are a real-time voice assistant") and rules:
        cuts = [(0, "rules"), (rules.end(), "other")]
    for pattern, source in ((_APPOINTMENT, "appointment"), (_HEADER, "header"), (_FOOTER, "footer")):
        m = pattern.search(text, cuts[-1][0])
        if m:
            cuts.append((m.start(), source))
            if source == "header":
                cuts.append((m.end(), "body"))
    cuts.sort(key=lambda c: c[0])
    labels = {"rules": "system rules", "appointment": "appointment block", "header": "header label",
              "body": body_label, "footer": "footer label", "other": "other text"}
    out: list[Segment] = []
    for i, (start, source) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(text)
        piece = text[start:end]
        if out and source == "other" and not piece.strip():  # blank lines between parts stay with the part before
            out[-1] = Segment(out[-1].source, out[-1].label, out[-1].text + piece, out[-1].flagged)
        elif piece:
            out.append(Segment(source, labels[source], piece, source == "body" and body_flagged))
    return out


def resolve_scenario_file(recorded: str, report_dir: Path) -> Path | None:
    """The scenario file as recorded, else relative to the results directory's parent or itself."""
    path = Path(recorded)
    candidates = [path] if path.is_absolute() else [path, report_dir.parent / path, report_dir / path]
    return next((c for c in candidates if c.is_file()), None)


class _Business:
    """The two fields ``expected_text`` reads, from a result's ``scenario.businesses`` entry."""

    def __init__(self, data: dict) -> None:
        self.name = data.get("name")
        self.settings = data.get("settings") or {}


class ScenarioSources:
    """The configured prompt texts of each scenario file, loaded once per file."""

    def __init__(self, report_dir: Path) -> None:
        self.report_dir = report_dir
        self._cache: dict[str, Any] = {}

    def scenario(self, recorded: str):
        """``(Scenario, None)`` or ``(None, reason)``."""
        if recorded not in self._cache:
            file = resolve_scenario_file(recorded, self.report_dir)
            if file is None:
                self._cache[recorded] = (None, f"the scenario file {recorded} is gone: the configured prompt "
                                               "cannot be shown")
            else:
                try:
                    self._cache[recorded] = (load_scenario(file), None)
                except CallReplayError as exc:
                    self._cache[recorded] = (None, f"the scenario file {recorded} no longer loads: {exc}")
        return self._cache[recorded]

    def expected_text(self, recorded: str, business_id: Any, direction: str | None,
                      businesses: list[dict] | None = None) -> tuple[str | None, str]:
        """The configured prompt of ``direction`` for the business (placeholders filled) and a caption.

        The result's own copy of the businesses is used when it has one, so a report can be re-rendered
        after the scenario file moved; older results fall back to reading the file.
        """
        field = FIELD_OF.get(direction or "")
        if businesses is not None:
            business = next((_Business(b) for b in businesses if b.get("id") == business_id), None)
        else:
            scenario, reason = self.scenario(recorded)
            if scenario is None:
                return None, reason
            business = next((b for b in scenario.businesses if b.id == business_id), None)
        if business is None or field is None:
            return None, f"business {business_id} / direction {direction} is not configured in the scenario"
        value = (business.settings or {}).get(field)
        caption = f"configured {field} of business {business_id} (the {direction} prompt, from the scenario)"
        if not value or not str(value).strip():
            return "", caption + ": EMPTY, which is what made the builder fall back"
        text = replace_placeholders(str(value), business.name or "")
        return text, caption
