"""Read scenario files into :class:`~callreplay.scenario.model.Scenario`, or fail with a located error.

Three passes, each with errors that name file, line and YAML path: safe YAML with line marks,
the JSON Schema (shapes and types), then the checks a schema cannot express (exactly one action
per step, steps for unknown calls, media before ``start``, audio files that escape the folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from ..durations import DURATION_FORMS, format_us, parse_duration
from ..errors import ScenarioError
from .callbacks import callback_script
from .limits import DEFAULT_LIMITS, OVERRIDE_HINT, Limits
from .model import (
    DEFAULT_CLOCK_START,
    DEFAULT_TIMEZONE,
    MAX_ECHO_DELAY_US,
    BusinessSpec,
    CacheStep,
    EchoSpec,
    Expectation,
    ExpectedFinding,
    ExpectedLatency,
    HttpStep,
    MediaSpec,
    ProbeStep,
    RealtimeStep,
    Scenario,
    SettingsStep,
    SourceSpec,
    Step,
    WebhookStep,
    WsStep,
)
from .schema import did_you_mean, validate_document
from .vocabulary import Vocabulary
from .vocabulary import installed as installed_vocabulary
from .yamlsafe import LineMap, load_with_lines, path_str

MAX_SCENARIO_BYTES = 64 * 1024 * 1024
FRAME_US = 20_000
ACTIONS = ("webhook", "ws", "settings", "cache", "realtime", "http", "probe")
LIVE_PROFILE = "live"  # the expectations of a live replay (the target is the user's server, not a profile)

WEBHOOK_ROUTES = {
    "incoming_call": "incoming_call", "/webhook/incoming_call": "incoming_call", "/webhook/voice": "incoming_call",
    "/webhook/incoming-call": "incoming_call", "/incoming_call": "incoming_call",
    "outbound_call": "outbound_call", "/webhook/outbound_call": "outbound_call",
    "stream_ended": "stream_ended", "/webhook/stream_ended": "stream_ended",
    "call_status": "call_status", "/webhook/call_status": "call_status",
    "stream_status": "stream_status", "/webhook/stream_status": "stream_status",
}
SETTINGS_FIELDS = ("ai_prompt", "outbound_ai_prompt", "call_goal", "enable_calendar_scheduling", "slot_size_min",
                   "timezone", "auto_end_after_lead_capture", "auto_end_on_goodbye", "smart_hangup_enabled",
                   "silence_timeout_sec", "silence_max_warnings", "confirm_before_hangup")
BUSINESS_FIELDS = ("name", "phone", "active", "greeting", "system_prompt", "voice")


def discover_scenarios(paths: list[Path]) -> list[Path]:
    """Every ``*.yaml`` / ``*.yml`` under the given files and folders, sorted, each once."""
    found: dict[Path, None] = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in (".yaml", ".yml") and f.is_file():
                    found.setdefault(f, None)
        else:
            found.setdefault(p, None)
    return list(found)


def resolve_route(name: str) -> tuple[str, str | None]:
    """Map a webhook name or path to (route, tenant-from-path); raise KeyError if unknown."""
    if name in WEBHOOK_ROUTES:
        return WEBHOOK_ROUTES[name], None
    for prefix, route in (("/twiml/incoming/", "incoming_call"), ("/twiml/outbound/", "outbound_call")):
        if name.startswith(prefix) and len(name) > len(prefix) and "/" not in name[len(prefix):]:
            return route, name[len(prefix):]
    raise KeyError(name)


_T = TypeVar("_T")


class _Ctx:
    def __init__(self, file: Path, lines: LineMap):
        self.file = file
        self.lines = lines
        self.errors: list[ScenarioError] = []

    def attempt(self, check: Callable[..., _T], *args: Any) -> _T | None:
        """Run one check that does not depend on another; keep its error and go on, so a file's
        independent mistakes are all reported in one run."""
        try:
            return check(*args)
        except ScenarioError as exc:
            self.errors.append(exc)
            return None

    def raise_collected(self) -> None:
        """Raise the first kept error with the others attached (``ScenarioError.all_lines``)."""
        if self.errors:
            first = self.errors[0]
            first.others = [*first.others, *(e for other in self.errors[1:] for e in (other, *other.others))]
            raise first

    def fail(self, parts: tuple, message: str, expected: str | None = None) -> ScenarioError:
        return ScenarioError(message, file=str(self.file), line=self.lines.line_for(parts),
                             path=path_str(parts) or None, expected=expected)

    def duration(self, value: Any, parts: tuple) -> int:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(parts, str(exc), DURATION_FORMS) from None


def _prompt_text(value: Any) -> str | None:
    """Prompt fields accept the JSON form as a mapping; the real system stores it as JSON text."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def load_scenario(path: Path, *, known: Vocabulary | None = None) -> Scenario:
    """Read and check one scenario; ``known`` names the detectors, profiles and settings it may use."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"the file is {size} bytes", file=str(path), line=1,
                                expected=f"at most {MAX_SCENARIO_BYTES}")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("the file is not UTF-8 text", file=str(path), line=1) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", file=str(path), line=1) from None
    return parse_scenario(text, path, known=known)


def parse_scenario(text: str, path: Path, *, known: Vocabulary | None = None) -> Scenario:
    data, lines = load_with_lines(text, str(path))
    ctx = _Ctx(path, lines)
    vocabulary = known if known is not None else installed_vocabulary()
    if not isinstance(data, dict):
        raise ctx.fail((), f"the top level is a {type(data).__name__}", "a mapping with at least 'name' and 'steps'")
    validate_document(data, lines, str(path))
    clock = data.get("clock") or {}
    clock_start = ctx.attempt(_clock_start, ctx, clock)
    timezone = clock.get("timezone", DEFAULT_TIMEZONE)
    ctx.attempt(_check_timezone, ctx, timezone)
    pipeline = dict(data.get("pipeline") or {})
    profile = pipeline.pop("profile", None)
    if profile is not None:
        ctx.attempt(_check_profile_name, ctx, vocabulary, profile, ("pipeline", "profile"))
    ctx.attempt(_check_overrides, ctx, vocabulary, pipeline)
    parsed = [ctx.attempt(_business, ctx, b, ("businesses", i)) for i, b in enumerate(data.get("businesses") or [])]
    businesses = tuple(b for b in parsed if b is not None)
    ids = [b.id for b in businesses]
    for i, b in enumerate(parsed):
        if b is not None and ids.count(b.id) > 1:
            ctx.errors.append(ctx.fail(("businesses", i, "id"), f"business id {b.id} is listed twice", "unique ids"))
    limits = ctx.attempt(_limits, ctx, data.get("limits") or {})
    # a business that failed its own check still exists for the steps that name it (no second error)
    named = set(ids) | {b.get("id") for b in data.get("businesses") or [] if isinstance(b, dict)}
    made = [ctx.attempt(_step, ctx, s, ("steps", i), i, named) for i, s in enumerate(data["steps"])]
    ctx.attempt(_check_detector_ids, ctx, vocabulary, data)
    expect = {}
    for profile_name, body in (data.get("expect") or {}).items():
        expectation = ctx.attempt(_expectation, ctx, vocabulary, profile_name, body)
        if expectation is not None:
            expect[profile_name] = expectation
    ctx.raise_collected()
    # the checks below read the steps as a whole, so they run once every step is known to be right
    steps = sorted((s for s in made if s is not None), key=lambda s: (s.at_us, s.index))
    ctx.attempt(_check_calls, ctx, steps)
    ctx.attempt(_check_sizes, ctx, steps, limits)
    ctx.attempt(_check_expected_calls, ctx, data, steps)
    model = ctx.attempt(_model, ctx, data.get("model") or {})
    ctx.raise_collected()
    assert clock_start is not None and limits is not None and model is not None  # else an error was raised
    return Scenario(
        name=data["name"], file=path, description=data.get("description", ""), tags=tuple(data.get("tags") or ()),
        seed=data.get("seed", 0), clock_start=clock_start, timezone=timezone, profile=profile, overrides=pipeline,
        businesses=businesses, steps=tuple(steps), expect=expect,
        detector_settings={k: ("off" if v is False else v) for k, v in (data.get("detectors") or {}).items()},
        evidence=dict(data.get("evidence") or {}), target=_target(data.get("target")),
        model=model, limits=limits)


def _clock_start(ctx: _Ctx, clock: dict) -> datetime:
    start_text = clock.get("start", DEFAULT_CLOCK_START)
    try:
        clock_start = datetime.fromisoformat(str(start_text))
    except ValueError:
        raise ctx.fail(("clock", "start"), f"{start_text!r} is not an ISO-8601 instant",
                       "e.g. 2026-01-08T10:00:00+02:00") from None
    if clock_start.tzinfo is None:
        raise ctx.fail(("clock", "start"), f"{start_text!r} has no UTC offset", "e.g. 2026-01-08T10:00:00+02:00")
    _check_clock_range(ctx, clock_start, start_text)
    return clock_start


def _expectation(ctx: _Ctx, vocabulary: Vocabulary, profile_name: str, body: Any) -> Expectation:
    _check_profile_name(ctx, vocabulary, profile_name, ("expect", profile_name))
    if body == "clean":
        return Expectation(profile_name, True)
    for j, e in enumerate(body):
        if e.get("at_most") is not None and e.get("at_least", 0) > e["at_most"]:
            raise ctx.fail(("expect", profile_name, j), f"at_least {e['at_least']} > at_most {e['at_most']}",
                           "at_least <= at_most")
    # ``at_most`` alone means "no more than": at_least then defaults to 0, otherwise to 1.
    findings = tuple(ExpectedFinding(e["finding"], e.get("call"), e.get("severity"),
                                     e.get("at_least", 0 if "at_most" in e else 1), e.get("at_most"),
                                     ctx.lines.line_for(("expect", profile_name, j)))
                     for j, e in enumerate(body) if "metric" not in e)
    latency = tuple(_expected_latency(ctx, e, ("expect", profile_name, j))
                    for j, e in enumerate(body) if "metric" in e)
    return Expectation(profile_name, False, findings, latency)


def _model(ctx: _Ctx, body: dict) -> dict[str, Any]:
    """The emulated model's behaviour (live mode), durations parsed; the keys the schema allows."""
    out = dict(body)
    for key in ("greeting_duration", "response_duration", "auto_response_duration", "response_latency"):
        if key in out:
            out[key] = ctx.duration(out[key], ("model", key))
    if "turns" in out:
        out["turns"] = [dict(turn, **({"response_duration": ctx.duration(turn["response_duration"],
                                                                          ("model", "turns", i, "response_duration"))}
                                      if "response_duration" in turn else {}))
                        for i, turn in enumerate(out["turns"])]
    return out


def _target(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("url")
    return value


def _expected_latency(ctx: _Ctx, entry: dict, parts: tuple) -> ExpectedLatency:
    from ..latency import METRICS

    if entry["metric"] not in METRICS:
        raise ctx.fail(parts + ("metric",), f"unknown metric {entry['metric']!r}", "one of: " + ", ".join(METRICS))
    return ExpectedLatency(entry["metric"], ctx.duration(entry["within"], parts + ("within",)), entry.get("call"),
                           ctx.lines.line_for(parts))


def _check_clock_range(ctx: _Ctx, clock_start: datetime, text: object) -> None:
    """Virtual time runs from ``clock.start`` for up to the timeline limit; it must stay a valid date."""
    ceiling = timedelta(hours=100_000) + timedelta(days=365)
    try:
        utc = clock_start.astimezone(UTC)
        utc + ceiling
    except (OverflowError, ValueError):
        pass
    else:
        if utc.year >= 1970:
            return
    raise ctx.fail(("clock", "start"), f"{text!r} is out of the supported range",
                   "an instant between 1970 and 9000, e.g. 2026-01-08T10:00:00+02:00")


def _limits(ctx: _Ctx, body: dict) -> Limits:
    """The scenario's ``limits:`` over the defaults (see :mod:`callreplay.scenario.limits`)."""
    values = {}
    if "media_step" in body:
        values["media_step_us"] = ctx.duration(body["media_step"], ("limits", "media_step"))
    if "timeline" in body:
        values["timeline_us"] = ctx.duration(body["timeline"], ("limits", "timeline"))
    if "side_file_bytes" in body:
        values["side_file_bytes"] = body["side_file_bytes"]
    return replace(DEFAULT_LIMITS, **values)


def _pattern_us(spec: MediaSpec) -> int:
    """Audio one pass of a media pattern lasts (files and recordings count as 0: their size is checked on open)."""
    return sum(src.duration_us if src.kind in ("silence", "tone", "speech", "noise", "music") else
               len(src.payloads) * FRAME_US if src.kind == "payloads" else 0 for src in spec.sources)


def _check_sizes(ctx: _Ctx, steps: list[Step], limits: Limits) -> None:
    """No step may ask for more audio or a later time than the limits allow (they would exhaust memory)."""
    for step in steps:
        parts = _parts_of(step)
        audio_us = 0
        if isinstance(step, WsStep) and step.media is not None:
            audio_us = step.media.for_us if step.media.for_us is not None else _pattern_us(step.media) * \
                step.media.repeat
            if audio_us > limits.media_step_us:
                raise ctx.fail(parts, f"this media step expands to {format_us(audio_us)} of audio, more than the "
                               f"limit of {format_us(limits.media_step_us)}", OVERRIDE_HINT)
        if step.at_us + audio_us > limits.timeline_us:
            raise ctx.fail(parts + ("at",), f"this step ends at {format_us(step.at_us + audio_us)}, later than the "
                           f"timeline limit of {format_us(limits.timeline_us)}", OVERRIDE_HINT)


def _check_expected_calls(ctx: _Ctx, data: dict, steps: list[Step]) -> None:
    """An expectation naming a call no step creates can never be met: say so now, not after the replay."""
    created = {sid for sid in _calls_introduced(steps) if isinstance(sid, str)}
    for profile_name, body in (data.get("expect") or {}).items():
        if not isinstance(body, list):
            continue
        for j, e in enumerate(body):
            call = e.get("call")
            if call is not None and call not in created:
                raise ctx.fail(("expect", profile_name, j, "call"), f"no step creates the call {call!r}",
                               "a CallSid of this scenario" + (" (" + ", ".join(sorted(created)) + ")"
                                                               if created else ""))


def _check_timezone(ctx: _Ctx, name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ctx.fail(("clock", "timezone"), f"unknown time zone {name!r}", "an IANA name such as Asia/Jerusalem") \
            from None


def _check_detector_ids(ctx: _Ctx, vocabulary: Vocabulary, data: dict) -> None:
    """Detector ids in ``detectors:`` and ``expect`` must be registered (built-in or plugin)."""
    known = vocabulary.detectors
    places: list[tuple[tuple[Any, ...], Any]] = [(("detectors", name), name) for name in (data.get("detectors") or {})]
    for profile_name, body in (data.get("expect") or {}).items():
        if isinstance(body, list):
            places += [(("expect", profile_name, j, "finding"), e["finding"]) for j, e in enumerate(body)
                       if "finding" in e]
    for parts, name in places:
        if name not in known:
            raise ctx.fail(parts, f"unknown detector {name!r}{did_you_mean(name, list(known))}",
                           "one of: " + ", ".join(known))


def _check_profile_name(ctx: _Ctx, vocabulary: Vocabulary, name: str, parts: tuple) -> None:
    if name not in vocabulary.profiles and ":" not in name and name != LIVE_PROFILE:
        raise ctx.fail(parts, f"unknown profile {name!r}{did_you_mean(name, list(vocabulary.profiles))}",
                       "one of: " + ", ".join(vocabulary.profiles) + ", or package.module:attr")


def _check_overrides(ctx: _Ctx, vocabulary: Vocabulary, overrides: dict) -> None:
    for name, value in overrides.items():
        try:
            vocabulary.check_setting(name, value)
        except KeyError:
            raise ctx.fail(("pipeline", name), f"unknown pipeline setting {name!r}"
                           f"{did_you_mean(name, ['profile', *vocabulary.settings])}",
                           "profile or one of: " + ", ".join(vocabulary.settings)) from None
        except (ValueError, TypeError) as exc:
            raise ctx.fail(("pipeline", name), str(exc), "a value of the setting's kind") from None


def _business(ctx: _Ctx, b: dict, parts: tuple) -> BusinessSpec:
    settings = b.get("settings")
    if settings is not None:
        settings = dict(settings)
        for key in ("ai_prompt", "outbound_ai_prompt"):
            if key in settings:
                settings[key] = _prompt_text(settings[key])
    return BusinessSpec(id=b["id"], name=b.get("name"), phone=b.get("phone"), channels=tuple(b.get("channels") or ()),
                        active=b.get("active", True), greeting=b.get("greeting"),
                        system_prompt=_prompt_text(b.get("system_prompt")), voice=b.get("voice"), settings=settings)


def _step(ctx: _Ctx, s: dict, parts: tuple, index: int, business_ids: set[int]) -> Step:
    actions = [a for a in ACTIONS if a in s]
    if len(actions) != 1:
        found = ", ".join(actions) if actions else "none"
        raise ctx.fail(parts, f"a step needs exactly one action, found {found}", "one of: " + ", ".join(ACTIONS))
    action = actions[0]
    for modifier, allowed in (("params", "webhook"), ("query", "webhook"), ("method", "webhook"),
                              ("headers", "webhook"), ("faults", "ws"), ("repeat", "ws"), ("for", "ws"),
                              ("echo", "ws")):
        if modifier in s and action != allowed:
            raise ctx.fail(parts + (modifier,), f"{modifier!r} does not belong to a {action} step",
                           f"{modifier!r} only on {allowed} steps")
    base: dict[str, Any] = dict(index=index, at_us=ctx.duration(s["at"], parts + ("at",)), line=ctx.lines.line_for(parts),
                path=path_str(parts))
    if action == "webhook":
        try:
            route, tenant = resolve_route(s["webhook"])
        except KeyError:
            if not s["webhook"].startswith("/") or s["webhook"].startswith("/webhook/"):
                raise ctx.fail(parts + ("webhook",), f"unknown webhook {s['webhook']!r}"
                               f"{did_you_mean(s['webhook'], sorted(WEBHOOK_ROUTES))}",
                           "one of: " + ", ".join(sorted(WEBHOOK_ROUTES)) + ", /twiml/incoming/<tenant>, "
                           "/twiml/outbound/<tenant>, or any path of your own server") from None
            route, tenant = "", None  # a path of the user's own server (live mode); in-process: 404
        query = {k: _text(v) for k, v in (s.get("query") or {}).items()}
        if tenant is not None and route == "outbound_call":
            query.setdefault("business_id", tenant)
        return WebhookStep(**base, route=route, request_path=s["webhook"], method=s.get("method", "POST"),
                           params={k: _text(v) for k, v in (s.get("params") or {}).items()}, query=query,
                           headers=dict(s.get("headers") or {}))
    if action == "http":
        body = s["http"]
        return HttpStep(**base, method=body.get("method", "POST"), request_path=body["path"],
                        query={k: _text(v) for k, v in (body.get("query") or {}).items()}, json=body.get("json"),
                        form={k: _text(v) for k, v in (body.get("form") or {}).items()},
                        headers=dict(body.get("headers") or {}), creates_call=body.get("creates_call"),
                        status_callbacks=callback_script(ctx, body, parts + ("http",))
                        if "status_callbacks" in body else None)
    if action == "probe":
        return _probe_step(ctx, s, parts, base)
    if action in ("ws", "realtime") and not s.get("call"):
        raise ctx.fail(parts, f"a {action} step needs 'call'", "the CallSid this step belongs to")
    if action == "realtime":
        respond = (s["realtime"] or {}).get("respond")
        if respond is None:
            raise ctx.fail(parts + ("realtime",), "nothing to do", "respond: {duration: 2s}")
        duration = ctx.duration(respond.get("duration", "2s"), parts + ("realtime", "respond", "duration"))
        return RealtimeStep(**base, call=s["call"], respond_duration_us=duration)
    if action == "settings":
        body = s["settings"]
        if body["business"] not in business_ids:
            raise ctx.fail(parts + ("settings", "business"), f"unknown business {body['business']}",
                           "one of the ids under 'businesses'")
        for key in body["set"]:
            if key not in SETTINGS_FIELDS and key not in BUSINESS_FIELDS:
                raise ctx.fail(parts + ("settings", "set", key),
                               f"unknown setting {key!r}{did_you_mean(key, SETTINGS_FIELDS + BUSINESS_FIELDS)}",
                               "one of: " + ", ".join(SETTINGS_FIELDS + BUSINESS_FIELDS))
        changes = {k: (_prompt_text(v) if k in ("ai_prompt", "outbound_ai_prompt", "system_prompt") else v)
                   for k, v in body["set"].items()}
        return SettingsStep(**base, business=body["business"], changes=changes,
                            invalidate_cache=body.get("invalidate_cache", False))
    if action == "cache":
        body = s["cache"]
        if body == "clear" or (isinstance(body, dict) and "clear" in body):
            return CacheStep(**base, op="clear")
        inv = body["invalidate"]
        if inv["business"] not in business_ids:
            raise ctx.fail(parts + ("cache", "invalidate", "business"), f"unknown business {inv['business']}",
                           "one of the ids under 'businesses'")
        return CacheStep(**base, op="invalidate", business=inv["business"], direction=inv.get("direction"))
    return _ws_step(ctx, s, parts, base)


def _probe_step(ctx: _Ctx, s: dict, parts: tuple, base: dict) -> ProbeStep:
    """A probe names its call, exactly one source (a GET path, or a command configured on the command line) and
    only the placeholders it may substitute; the command itself never comes from the file."""
    from ..probes import MAX_TIMEOUT_US, PLACEHOLDERS, placeholders_in

    body, pparts = s["probe"], parts + ("probe",)
    if not s.get("call"):
        raise ctx.fail(parts, "a probe step needs 'call'", "the CallSid whose stored state it reads")
    sources = [key for key in ("http", "command") if key in body]
    if len(sources) != 1:
        raise ctx.fail(pparts, f"a probe needs exactly one of http, command; found {', '.join(sources) or 'none'}",
                       "http: /calls/{call_sid} (a GET to the target) or command: NAME (--probe-command NAME=...)")
    if "http" in body:
        path = body["http"]
        unknown = [n for n in placeholders_in(path) if n not in PLACEHOLDERS]
        if unknown:
            raise ctx.fail(pparts + ("http",), f"unknown placeholder {{{unknown[0]}}}"
                           f"{did_you_mean(unknown[0], PLACEHOLDERS)}", "one of: " + ", ".join(PLACEHOLDERS))
    timeout_us = ctx.duration(body.get("timeout", "5s"), pparts + ("timeout",))
    if not 0 < timeout_us <= MAX_TIMEOUT_US:
        raise ctx.fail(pparts + ("timeout",), f"timeout {format_us(timeout_us)} is out of range",
                       f"more than 0 and at most {format_us(MAX_TIMEOUT_US)}")
    return ProbeStep(**base, call=s["call"], http=body.get("http"), command=body.get("command"),
                     fields=dict(body.get("fields") or {}), timeout_us=timeout_us)


def _text(value: Any) -> str:
    """Form fields and query values are text on the wire."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ws_step(ctx: _Ctx, s: dict, parts: tuple, base: dict) -> WsStep:
    ws = s["ws"]
    call = s["call"]
    wparts = parts + ("ws",)
    if isinstance(ws, str):
        if s.get("faults") or s.get("repeat") or s.get("for") or "echo" in s:
            raise ctx.fail(parts, f"faults/repeat/for do not apply to '{ws}'", "a media source step")
        if ws in ("mark", "dtmf"):
            raise ctx.fail(wparts, f"'{ws}' needs a value", f"{ws}: <{'name' if ws == 'mark' else 'digit'}>")
        return WsStep(**base, call=call, message=ws)
    if "event" in ws:
        if s.get("faults") or s.get("repeat") or s.get("for") or "echo" in s:
            raise ctx.fail(parts, "faults/repeat/for apply to media shorthand only", "a media source step")
        return WsStep(**base, call=call, message="raw", raw=ws)
    (kind, body), = ws.items()
    if kind != "media" and (s.get("faults") or s.get("repeat") or s.get("for") or "echo" in s):
        raise ctx.fail(parts, f"faults/repeat/for do not apply to '{kind}'", "a media source step")
    if kind == "start":
        body = body or {}
        params = body.get("customParameters")
        return WsStep(**base, call=call, message="start",
                      custom_parameters={k: _text(v) for k, v in params.items()} if params is not None else None,
                      stream_sid=body.get("streamSid"), tracks=tuple(body["tracks"]) if "tracks" in body else None)
    if kind == "mark":
        return WsStep(**base, call=call, message="mark", mark=body)
    if kind == "dtmf":
        return WsStep(**base, call=call, message="dtmf", digit=body)
    if kind in ("stop", "close", "connected"):
        return WsStep(**base, call=call, message=kind)
    sources = body if isinstance(body, list) else [body]
    specs = tuple(_source(ctx, src, wparts + ("media",) + ((i,) if isinstance(body, list) else ()))
                  for i, src in enumerate(sources))
    if any(spec.kind == "recording" for spec in specs) and (len(specs) > 1 or s.get("repeat") or s.get("for")):
        raise ctx.fail(wparts + ("media",), "a recording is streamed on its own",
                       "a media step with only 'recording:' and no repeat/for")
    for_us = ctx.duration(s["for"], parts + ("for",)) if "for" in s else None
    faults = s.get("faults")
    if faults:
        for key in ("jitter",):
            if key in faults:
                ctx.duration(faults[key], parts + ("faults", key))
        for key in ("gap", "stall"):
            if key in faults:
                ctx.duration(faults[key]["at"], parts + ("faults", key, "at"))
                ctx.duration(faults[key]["duration"], parts + ("faults", key, "duration"))
    return WsStep(**base, call=call, message="media", media=MediaSpec(specs, s.get("repeat", 1), for_us),
                  faults=faults, echo=_echo(ctx, s["echo"], parts + ("echo",)) if "echo" in s else None)



def _echo(ctx: _Ctx, body: dict, parts: tuple) -> EchoSpec:
    """``echo: {delay: 200ms, attenuation: 12}``: the bot's audio back on the caller's line (attenuation in dB)."""
    delay = ctx.duration(body.get("delay", "200ms"), parts + ("delay",))
    if delay > MAX_ECHO_DELAY_US:
        raise ctx.fail(parts + ("delay",), f"an echo delay of {format_us(delay)} is longer than the line keeps",
                       f"at most {format_us(MAX_ECHO_DELAY_US)}")
    return EchoSpec(delay, float(body.get("attenuation", 12)))


def _source(ctx: _Ctx, src: dict, parts: tuple) -> SourceSpec:
    (kind, body), = src.items()
    sparts = parts + (kind,)
    if kind == "silence":
        return SourceSpec("silence", duration_us=ctx.duration(body, sparts))
    if kind == "tone":
        return SourceSpec("tone", duration_us=ctx.duration(body["duration"], sparts + ("duration",)),
                          hz=float(body.get("hz", 440)), rms=float(body.get("rms", 1000)))
    if kind == "speech":
        body = body if isinstance(body, dict) else {"duration": body}
        return SourceSpec("speech", duration_us=ctx.duration(body["duration"], sparts + ("duration",)),
                          rms=float(body.get("rms", 1500)), seed=body.get("seed"))
    if kind in ("noise", "music"):
        return SourceSpec(kind, duration_us=ctx.duration(body["duration"], sparts + ("duration",)),
                          rms=float(body.get("rms", 1000)), zcr=float(body.get("zcr", 0.5 if kind == "noise" else 0.1)),
                          seed=body.get("seed"))
    if kind == "payloads":
        return SourceSpec("payloads", payloads=tuple(body))
    if kind == "recording":
        return SourceSpec("recording", path=_safe_file(ctx, body, sparts, "a JSON-Lines recording next to the scenario"))
    return SourceSpec("file", path=_audio_file(ctx, body, sparts))


def _audio_file(ctx: _Ctx, name: str, parts: tuple) -> Path:
    """An audio file inside the folder whose header libsndfile reads (``validate`` checks the format too)."""
    from ..audio.wav import audio_format

    path = _safe_file(ctx, name, parts)
    try:
        audio_format(path)
    except ValueError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise ctx.fail(parts, f"audio file {name!r}: {reason}",
                       "a WAV (PCM, float, mu-law, A-law, EXTENSIBLE), FLAC or other file libsndfile reads") from None
    return path


def _safe_file(ctx: _Ctx, name: str, parts: tuple, what: str = "a WAV file next to the scenario") -> Path:
    """Audio files must live inside the scenario's folder: no absolute paths, no ``..``, no symlink escape."""
    folder = ctx.file.parent.resolve()
    candidate = Path(name)
    if candidate.is_absolute():
        raise ctx.fail(parts, f"absolute path {name!r}", "a path relative to the scenario's folder")
    resolved = (folder / candidate).resolve()
    if resolved != folder and folder not in resolved.parents:
        raise ctx.fail(parts, f"{name!r} points outside the scenario's folder", "a file inside " + str(folder))
    if not resolved.is_file():
        raise ctx.fail(parts, f"audio file {name!r} does not exist", what)
    return resolved


def _calls_introduced(steps: list[Step]) -> set[str]:
    """The CallSids the steps create: a webhook's params.CallSid, an http step's creates_call, a raw start."""
    known: set[str] = set()
    for step in steps:
        if isinstance(step, WebhookStep) and step.params.get("CallSid"):
            known.add(step.params["CallSid"])
        if isinstance(step, HttpStep) and step.creates_call:
            known.add(step.creates_call)
        if isinstance(step, WsStep) and step.message == "raw" and step.raw and step.raw.get("event") == "start":
            sid = (step.raw.get("start") or {}).get("callSid")
            if sid:
                known.add(sid)
    return known


def _check_calls(ctx: _Ctx, steps: list[Step]) -> None:
    """A ws/realtime step must name a call a webhook (or a raw start) introduced; media needs a start first."""
    known = _calls_introduced(steps)
    started: set[str] = set()
    for step in steps:
        call = getattr(step, "call", None)
        if not call:
            continue
        parts = _parts_of(step)
        if call not in known:
            raise ctx.fail(parts + ("call",), f"step for unknown call {call!r}",
                           "a CallSid introduced by a webhook step's params.CallSid" +
                           (" (known: " + ", ".join(sorted(known)) + ")" if known else ""))
        if isinstance(step, WsStep):
            event = (step.raw or {}).get("event") if step.message == "raw" else step.message
            if event == "start":
                started.add(call)
            elif event in ("media", "stop", "mark", "dtmf") and call not in started:
                raise ctx.fail(parts + ("ws",), f"{event} for call {call!r} before its 'start'",
                               f"a ws start step earlier than the first {event} step")


def _parts_of(step: Step) -> tuple:
    return ("steps", step.index)
