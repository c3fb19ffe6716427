"""The tools a call's session was configured with, judged against the dialled business's configuration.

A pipeline that builds the tools from the wrong business row (a cached list, the first business of the
table) offers the caller another tenant's booking, or a booking the dialled business never enabled. Read
from each accepted ``session.update``'s ``tool_specs`` (live: as the realtime emulator received it). The
in-process model sends no tools (spec §7.6's ``_build_realtime_tools_for_call`` is not modelled), so there
this rule has nothing to read and stays silent.
"""

from __future__ import annotations

import re

from .base import Evidence
from .view import TraceView

APPOINTMENT_TOOLS = ("check_availability", "schedule_appointment")
MIN_NAME_CHARS = 3
PLACEHOLDER_NAME = "business"  # the default name a business without one gets: names nobody


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)


def _judgeable(name: object) -> bool:
    text = str(name or "").strip()
    return len(text) >= MIN_NAME_CHARS and text.lower() != PLACEHOLDER_NAME


def _foreign_names(view: TraceView, truth: int, text: str, at_us: int) -> list[tuple[int, str]]:
    """(business, name) of every other business whose name the text mentions outside the dialled one's own
    name ("Acme" inside "Acme Dental" is the dialled Acme Dental, but "Acme Dental" in Acme's tools is not)."""
    own = view.configured(truth, at_us).get("name")
    own_spans = [m.span() for m in _name_pattern(str(own)).finditer(text)] if _judgeable(own) else []
    hits = []
    for bid in view.business_ids():
        name = view.configured(bid, at_us).get("name")
        if bid == truth or not _judgeable(name) or str(name).lower() == str(own or "").lower():
            continue
        if any(not any(a <= m.start() and m.end() <= b for a, b in own_spans)
               for m in _name_pattern(str(name)).finditer(text)):
            hits.append((bid, str(name)))
    return hits


def tool_effects(view: TraceView, call: str, truth: int) -> list[tuple[int, int | None, Evidence]]:
    """(when, the business the tools name or None, evidence) of the first session.update of ``call`` whose
    tools do not fit business ``truth``: appointment tools while its ``enable_calendar_scheduling`` is false
    (missing counts as true, the platform's default), or a tool whose name, description or parameters name
    another business of the scenario."""
    for e in view.events("realtime.session_update"):
        specs = e.data.get("tool_specs")
        if e.call != call or not isinstance(specs, list) or e.data.get("accepted") is False:
            continue
        problems, named = [], None
        scheduling = view.configured(truth, e.t_us).get("enable_calendar_scheduling")
        booking = [s.get("name") for s in specs if s.get("name") in APPOINTMENT_TOOLS]
        if booking and scheduling is False:
            problems.append(f"appointment tools {', '.join(map(str, booking))} although business {truth} has "
                            "calendar scheduling disabled")
        for spec in specs:
            hits = _foreign_names(view, truth, f"{spec.get('name')} {spec.get('text')}", e.t_us)
            if hits:
                named = named if named is not None else hits[0][0]
                problems.append(f"tool {spec.get('name')!r} names {', '.join(n for _, n in hits)}")
        if problems:
            return [(e.t_us, named, Evidence("side-effect", f"the session's tools: {'; '.join(problems)}",
                                             (e.seq,), {"what": "tools", "business": named,
                                                        "dialled_business": truth, "problems": problems}))]
    return []
