"""What an imported scenario says about its own evidence: assumptions and the log lines it came from.

``callreplay import logs`` writes ``evidence: {assumptions, log_file, ...}`` into the scenario and keeps
the matched log lines in a file next to it; a postmortem reader needs both on the scenario's page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_LOG_LINES = 400


def imported_evidence(result: dict[str, Any]) -> dict[str, Any] | None:
    scenario = result.get("scenario") or {}
    evidence = scenario.get("evidence") or {}
    if not evidence:
        return None
    assumptions = [str(a) for a in evidence.get("assumptions") or []]
    facts = {k: v for k, v in evidence.items() if k not in ("assumptions", "log_file") and not isinstance(v, dict)}
    log_lines: list[str] = []
    note = None
    log_file = evidence.get("log_file")
    if log_file and scenario.get("file"):
        folder = Path(str(scenario["file"])).resolve().parent
        path = (folder / str(log_file)).resolve()
        if folder not in path.parents:
            note = f"{log_file} is outside the scenario's folder; not shown"
        elif not path.is_file():
            note = f"{log_file} was not found next to the scenario"
        else:
            with open(path, encoding="utf-8", errors="replace") as fh:
                for number, line in enumerate(fh):
                    if number >= MAX_LOG_LINES:
                        note = f"first {MAX_LOG_LINES} lines shown; the rest are in {log_file}"
                        break
                    log_lines.append(line.rstrip("\n"))
    return {"assumptions": assumptions, "facts": facts, "log_file": log_file, "log_lines": log_lines, "note": note}
