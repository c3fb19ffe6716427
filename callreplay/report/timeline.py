"""The scenario page's timeline as a list of SVG shapes (drawn by the ``svg`` macro, which escapes text).

Lanes: per call ``webhook``, ``tasks``, ``websocket``, ``prompt``, ``turns``, ``findings``; then the
shared ``prompt cache`` and ``stream registry``. The x axis is virtual time from 0 to the replay's end.
Ticks that would land on the same pixel of the same lane are drawn once, so a 2-hour call stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .status import fmt_us, short_sid

WIDTH, LABEL_W, RIGHT_PAD, LANE_H, TOP, GROUP_GAP = 1180, 200, 16, 18, 10, 16
LABEL_CHAR_PX = 6.2  # estimated width of one character of a finding label (11 px sans-serif)
LABEL_GAP_PX = 12  # space kept between two finding labels
MIN_BAR_PX = 5.0  # a finding's bar is never thinner than this, so 1 s past a TTL on a 2-hour axis still shows
PLOT_W = WIDTH - LABEL_W - RIGHT_PAD
CALL_LANES = ("webhook", "tasks / prebuild", "websocket", "prompt", "response turns", "findings")
_STEPS_US = [s * 1_000_000 for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)]


@dataclass
class Shape:
    kind: str            # rect | line | circle | text
    x: float
    y: float
    w: float = 0.0       # rect width; line x2 - x; circle radius
    h: float = 0.0       # rect height; line y2 - y
    cls: str = ""
    title: str = ""
    href: str = ""
    text: str = ""
    detector: str = ""


@dataclass
class Timeline:
    width: int
    height: int
    lanes: list[dict[str, Any]] = field(default_factory=list)     # {y, label, sub, group}
    shapes: list[Shape] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)     # {x, label}


def axis_label(us: int) -> str:
    s = us // 1_000_000
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class _Builder:
    def __init__(self, end_us: int) -> None:
        self.end_us = max(int(end_us), 1)
        self.tl = Timeline(WIDTH, 0)
        self.y = TOP
        self.seen: set[tuple[int, int, str]] = set()

    def x(self, t_us: Any) -> float:
        t = min(max(int(t_us or 0), 0), self.end_us)
        return round(LABEL_W + t * PLOT_W / self.end_us, 1)

    def lane(self, label: str, sub: str = "", group: str = "") -> int:
        if group:
            self.y += GROUP_GAP
        y = self.y
        self.tl.lanes.append({"y": y, "label": label, "sub": sub, "group": group})
        self.y += LANE_H
        return y

    def tick(self, y: int, t_us: Any, cls: str, title: str, href: str = "") -> None:
        x = self.x(t_us)
        key = (y, int(x), cls)
        if key in self.seen:
            return
        self.seen.add(key)
        self.tl.shapes.append(Shape("line", x, y + 3, 0, LANE_H - 6, cls=cls, title=title, href=href))

    def dot(self, y: int, t_us: Any, cls: str, title: str, href: str = "", detector: str = "") -> None:
        self.tl.shapes.append(Shape("circle", self.x(t_us), y + LANE_H / 2, 5, 0, cls=cls, title=title, href=href,
                                    detector=detector))

    def bar(self, y: int, start: Any, end: Any, cls: str, title: str, *, inset: int = 4, href: str = "",
            detector: str = "", min_px: float = 1.0) -> None:
        x0, x1 = self.x(start), self.x(end)
        if x1 - x0 < min_px:  # widen to the left: the bar still ends where the time span ends
            x0 = max(round(x1 - min_px, 1), LABEL_W)
        self.tl.shapes.append(Shape("rect", x0, y + inset, max(round(x1 - x0, 1), 1.0), LANE_H - 2 * inset,
                                    cls=cls, title=title, href=href, detector=detector))

    def label(self, y: int, t_us: Any, text: str, cls: str = "tl-text") -> None:
        self.tl.shapes.append(Shape("text", self.x(t_us) + 3, y + LANE_H - 5, cls=cls, text=text))


def _ticks(b: _Builder) -> list[dict[str, Any]]:
    step = next((s for s in _STEPS_US if b.end_us / s <= 12), _STEPS_US[-1])
    return [{"x": b.x(t), "label": axis_label(t)} for t in range(0, b.end_us + 1, step)]


def build_timeline(result: dict[str, Any], events: list[dict[str, Any]], anchors: dict[int, str]) -> Timeline:
    """``events``: the timeline kinds of the trace; ``anchors``: finding index -> evidence anchor id."""
    b = _Builder(result.get("virtual_end_us") or 0)
    ttl = result.get("ttl_us")
    by_call: dict[str | None, list[dict[str, Any]]] = {}
    for e in events:
        by_call.setdefault(e.get("call"), []).append(e)
    prompts = {p.get("prompt_id"): p for p in result.get("prompts") or []}
    findings = result.get("findings") or []
    changes = [e for e in events if e.get("kind") == "settings.changed"]
    for call in result.get("calls") or []:
        _call_lanes(b, call, by_call.get(call.get("call"), []), prompts, ttl, findings, anchors, changes)
    _cache_lane(b, events)
    _registry_lane(b, events)
    b.tl.ticks = _ticks(b)
    b.tl.height = b.y + 22
    return b.tl


def _call_lanes(b: _Builder, call: dict[str, Any], events: list[dict[str, Any]], prompts: dict, ttl: Any,
                findings: list[dict[str, Any]], anchors: dict[int, str], changes: list[dict[str, Any]]) -> None:
    sid = call.get("call")
    group = f"{short_sid(sid)} · {call.get('direction') or '?'} · business {call.get('business_id')}"
    ys = {name: b.lane(name, group=group if i == 0 else "") for i, name in enumerate(CALL_LANES)}
    start, end = call.get("started_us") or 0, call.get("ended_us") or b.end_us
    b.bar(ys["websocket"], start, end, "tl-call", f"call {sid}: {fmt_us(start)} – {fmt_us(end)} "
          f"({call.get('end_reason') or 'open'})", inset=6)
    task_start: dict[str, int] = {}
    for e in events:
        kind, t, d = e.get("kind", ""), e.get("t_us", 0), e.get("data") or {}
        if kind.startswith("webhook."):
            b.dot(ys["webhook"], t, "tl-webhook", f"{kind} {d.get('route') or d.get('path') or ''} at {fmt_us(t)}")
        elif kind == "task.scheduled":
            task_start[str(d.get("task"))] = t
        elif kind == "prebuild.finished":
            s = task_start.get(str(d.get("task")), t)
            b.bar(ys["tasks / prebuild"], s, t, "tl-task",
                  f"prebuild {d.get('task')}: prompt #{d.get('prompt_id')} stored={d.get('stored')} "
                  f"({fmt_us(s)} – {fmt_us(t)})")
        elif kind in ("prompt.registry_read", "prompt.loaded", "prompt.missing"):
            b.tick(ys["tasks / prebuild"], t, "tl-read", f"{kind} {_kv(d)} at {fmt_us(t)}")
        elif kind == "prompt.mismatch_check":
            cls = "tl-mismatch" if d.get("mismatch") else "tl-check"
            b.dot(ys["tasks / prebuild"], t, cls, f"mismatch check: expected {d.get('expected')}, detected "
                  f"{d.get('detected')} ({d.get('method')}), action {d.get('action')} at {fmt_us(t)}")
        elif kind.startswith(("ws.", "call.")) and kind != "call.ended":
            cls = "tl-ws-bad" if kind in ("ws.protocol", "call.hard_limit") else "tl-ws"
            what = d.get("event") or d.get("reason") or d.get("direction") or ""
            b.tick(ys["websocket"], t, cls, f"{kind} {what} at {fmt_us(t)}")
        elif kind == "prompt.built":
            b.dot(ys["prompt"], t, "tl-built", f"prompt #{d.get('prompt_id')} built by {d.get('builder')} "
                  f"({d.get('path')}) from {d.get('source_field')} at {fmt_us(t)}")
        elif kind == "cache.set":
            b.tick(ys["prompt"], t, "tl-cached",
                   f"prompt #{d.get('prompt_id')} cached under {d.get('key')} at {fmt_us(t)}")
    _prompt_lane(b, ys["prompt"], call, prompts, ttl, end, changes)
    for turn in call.get("turns") or []:
        t = turn.get("t_us", 0)
        b.bar(ys["response turns"], t, t + (turn.get("duration_us") or 0), "tl-turn",
              f"turn {turn.get('turn')} ({turn.get('reason')}) prompt #{turn.get('prompt_id')} at {fmt_us(t)}")
    marked: list[dict[str, Any]] = []
    for index, f in enumerate(findings):
        if f.get("call") != sid:
            continue
        href = "#" + anchors[index]
        if f.get("detector") == "prompt-outlived-ttl":
            det = f.get("details") or {}
            b.bar(ys["prompt"], det.get("ttl_expiry_us", f.get("at_us")), det.get("used_until_us", end),
                  "tl-outlived", f"prompt-outlived-ttl: prompt #{det.get('prompt_id')} still bound "
                  f"{fmt_us(det.get('outlived_us'))} past its TTL", inset=2, href=href, detector="prompt-outlived-ttl",
                  min_px=MIN_BAR_PX)
        b.dot(ys["findings"], f.get("at_us"), f"tl-finding sev-{f.get('severity')}",
              f"{f.get('severity')}: {f.get('detector')} at {fmt_us(f.get('at_us'))}: {f.get('message')}",
              href=href, detector=str(f.get("detector")))
        marked.append(f)
    for at_us, names in _label_groups(b, marked):
        b.label(ys["findings"], at_us, ", ".join(names)[:130])


def _label_groups(b: _Builder, marked: list[dict[str, Any]]) -> list[tuple[Any, list[str]]]:
    """One text label per run of findings whose labels would overlap (estimated from their text width)."""
    groups: list[tuple[Any, list[str], float]] = []  # (time of the first, detector names, label's right edge)
    for f in sorted(marked, key=lambda f: (f.get("at_us") or 0, str(f.get("detector")))):
        x, name = b.x(f.get("at_us")), str(f.get("detector"))
        if groups and x < groups[-1][2]:
            at_us, names, _ = groups[-1]
            if name not in names:
                names.append(name)
            groups[-1] = (at_us, names, b.x(at_us) + LABEL_CHAR_PX * len(", ".join(names)[:130]) + LABEL_GAP_PX)
        else:
            groups.append((f.get("at_us"), [name], x + LABEL_CHAR_PX * len(name) + LABEL_GAP_PX))
    return [(at_us, sorted(names)) for at_us, names, _ in groups]


def _prompt_lane(b: _Builder, y: int, call: dict[str, Any], prompts: dict, ttl: Any, end: int,
                 changes: list[dict[str, Any]]) -> None:
    bindings = call.get("bindings") or []
    for i, bind in enumerate(bindings):
        until = bindings[i + 1]["t_us"] if i + 1 < len(bindings) else end
        p = prompts.get(bind.get("prompt_id")) or {}
        wrong = p.get("source_direction") not in (None, call.get("direction"))
        b.bar(y, bind.get("t_us"), until, "tl-bound-wrong" if wrong else "tl-bound",
              f"prompt #{bind.get('prompt_id')} bound ({bind.get('reason')}) from {fmt_us(bind.get('t_us'))} to "
              f"{fmt_us(until)}; source {p.get('source_field') or '?'}", inset=6)
        b.tick(y, bind.get("t_us"), "tl-bind", f"prompt #{bind.get('prompt_id')} bound at {fmt_us(bind.get('t_us'))}")
        for change in changes:  # the business's settings changed while this prompt was bound: it went stale
            t = change.get("t_us", 0)
            same = (change.get("data") or {}).get("business_id") == call.get("business_id")
            if same and bind.get("t_us", 0) <= t <= until:
                b.dot(y, t, "tl-stale", f"prompt #{bind.get('prompt_id')} went stale at {fmt_us(t)}: settings of "
                      f"business {call.get('business_id')} changed while it was bound")
                b.label(y, t, "stale", "tl-text tl-ttl-text")
        built = p.get("built_at_us")
        if isinstance(ttl, int) and isinstance(built, int) and built + ttl <= min(until, b.end_us):
            b.tick(y, built + ttl, "tl-ttl", f"TTL of prompt #{bind.get('prompt_id')} would expire it at "
                   f"{fmt_us(built + ttl)} (built {fmt_us(built)} + TTL {fmt_us(ttl)})")
            b.label(y, built + ttl, "TTL", "tl-text tl-ttl-text")


def _cache_lane(b: _Builder, events: list[dict[str, Any]]) -> None:
    y = b.lane("prompt cache", group="shared state")
    for e in events:
        kind, t, d = e.get("kind", ""), e.get("t_us", 0), e.get("data") or {}
        if kind == "cache.set":
            b.bar(y, t, t + (d.get("ttl_us") or 0), "tl-cache-entry", f"cache {d.get('key')} = prompt "
                  f"#{d.get('prompt_id')} from {fmt_us(t)}, TTL {fmt_us(d.get('ttl_us'))}", inset=6)
        elif kind == "cache.get":
            b.dot(y, t, f"tl-cache-{d.get('result')}", f"cache get {d.get('key')}: {d.get('result')} at {fmt_us(t)}")
        elif kind in ("cache.invalidate", "settings.changed"):
            b.tick(y, t, "tl-ws-bad", f"{kind} {_kv(d)} at {fmt_us(t)}")


def _registry_lane(b: _Builder, events: list[dict[str, Any]]) -> None:
    y = b.lane("stream registry", group="")
    created: dict[str, int] = {}
    for e in events:
        kind, t, d = e.get("kind", ""), e.get("t_us", 0), e.get("data") or {}
        sid = str(d.get("sid") or e.get("call"))
        if kind == "registry.create":
            created[sid] = t
        elif kind == "registry.clear":
            b.bar(y, created.pop(sid, t), t, "tl-registry", f"registry entry {sid}: no TTL, cleared at {fmt_us(t)} "
                  f"({d.get('reason')})", inset=6)
        elif kind == "registry.set" and d.get("key") == "_prebuilt_full_prompt":
            b.dot(y, t, "tl-parked", f"prompt #{d.get('prompt_id')} parked for {sid} at {fmt_us(t)} (no TTL)")
        elif kind == "registry.get" and d.get("key") == "_prebuilt_full_prompt":
            b.tick(y, t, "tl-read",
                   f"registry get _prebuilt_full_prompt for {sid}: found={d.get('found')} at {fmt_us(t)}")
    for sid, t in sorted(created.items()):
        b.bar(y, t, b.end_us, "tl-registry tl-leak", f"registry entry {sid} never cleared", inset=6)


def _kv(d: dict[str, Any]) -> str:
    return ", ".join(f"{k}={d[k]}" for k in sorted(d) if not isinstance(d[k], (dict, list)))[:200]
