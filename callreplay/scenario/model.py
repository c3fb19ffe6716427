"""The scenario as plain frozen data: what the loader produces and the replay consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .limits import DEFAULT_LIMITS, Limits

# Neutral defaults: UTC unless the scenario's ``clock:`` says otherwise (the shipped scenarios, written for
# one deployment in Israel, state ``timezone: Asia/Jerusalem`` and ``+02:00`` explicitly). The default start
# is the same instant the earlier default (10:00 at +02:00) named.
DEFAULT_CLOCK_START = "2026-01-08T08:00:00+00:00"
DEFAULT_TIMEZONE = "UTC"


@dataclass(frozen=True)
class BusinessSpec:
    id: int
    name: str | None
    phone: str | None = None
    channels: tuple[str, ...] = ()
    active: bool = True
    greeting: str | None = None
    system_prompt: str | None = None
    voice: str | None = None
    settings: dict[str, Any] | None = None  # None: no BusinessSettings row at all


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # silence | tone | speech | noise | music | file | payloads | recording
    duration_us: int = 0
    hz: float = 440.0
    rms: float = 0.0
    seed: int | None = None
    zcr: float = 0.5         # noise and music: the zero-crossing rate (sign changes per sample)
    path: Path | None = None
    payloads: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaSpec:
    sources: tuple[SourceSpec, ...]
    repeat: int = 1
    for_us: int | None = None


MAX_ECHO_DELAY_US = 2_000_000  # the live driver keeps this much of the model's audio to echo back


@dataclass(frozen=True)
class EchoSpec:
    """The bot's own audio heard back on the caller's line: ``delay_us`` later, ``attenuation_db`` quieter."""

    delay_us: int
    attenuation_db: float

    @property
    def gain(self) -> float:
        return float(10 ** (-self.attenuation_db / 20))


@dataclass(frozen=True)
class Step:
    index: int          # position in the file
    at_us: int
    line: int | None
    path: str           # YAML path, e.g. steps[4]

    @property
    def action(self) -> str:
        return type(self).ACTION  # type: ignore[attr-defined]


@dataclass(frozen=True)
class WebhookStep(Step):
    ACTION = "webhook"
    route: str = ""          # incoming_call | outbound_call | stream_ended | call_status | stream_status
    request_path: str = ""   # the path as written (alias kept for the trace)
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WsStep(Step):
    ACTION = "ws"
    call: str = ""
    message: str = ""        # connected | start | media | mark | dtmf | stop | close | raw
    raw: dict[str, Any] | None = None
    custom_parameters: dict[str, str] | None = None
    stream_sid: str | None = None
    tracks: tuple[str, ...] | None = None
    media: MediaSpec | None = None
    mark: str | None = None
    digit: str | None = None
    faults: dict[str, Any] | None = None
    echo: EchoSpec | None = None  # a media step: the model's audio mixed into its frames (live mode)


@dataclass(frozen=True)
class SettingsStep(Step):
    ACTION = "settings"
    business: int = 0
    changes: dict[str, Any] = field(default_factory=dict)
    invalidate_cache: bool = False


@dataclass(frozen=True)
class CacheStep(Step):
    ACTION = "cache"
    op: str = "clear"        # clear | invalidate
    business: int | None = None
    direction: str | None = None


@dataclass(frozen=True)
class RealtimeStep(Step):
    ACTION = "realtime"
    call: str = ""
    respond_duration_us: int = 0


CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")  # Twilio's StatusCallbackEvent values
MAX_CALLBACK_DELAY_US = 60_000_000


@dataclass(frozen=True)
class CallbackScript:
    """Live mode: how Twilio's automatic status callbacks of a REST-created call go wrong, per event:
    ``delay_us`` late, ``drop`` never sent, ``out_of_order`` held and sent after the call's completed callback."""

    delay_us: dict[str, int] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    out_of_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class HttpStep(Step):
    """Live mode: a request to the target's own API (in-process there is no such API: recorded, skipped)."""

    ACTION = "http"
    method: str = "POST"
    request_path: str = "/"
    query: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    creates_call: str | None = None
    status_callbacks: CallbackScript | None = None  # of the call it creates (needs creates_call)


@dataclass(frozen=True)
class ProbeStep(Step):
    """Read one call's stored state (live: a GET to the target or a configured command; in-process: the store)."""

    ACTION = "probe"
    call: str = ""
    http: str | None = None          # a path of the target, GET only, placeholders such as {call_sid}
    command: str | None = None       # the name of a command given on the command line (--probe-command NAME=...)
    fields: dict[str, str] = field(default_factory=dict)  # typed field -> dotted path in the answer
    timeout_us: int = 5_000_000


@dataclass(frozen=True)
class ExpectedFinding:
    finding: str
    call: str | None = None
    severity: str | None = None
    at_least: int = 1
    at_most: int | None = None
    line: int | None = None


@dataclass(frozen=True)
class ExpectedLatency:
    """``{metric: first-model-audio, within: 1.5s}``: every measured interval of the metric is at most ``within``."""

    metric: str              # first-model-audio | reply-latency (callreplay.latency.METRICS)
    within_us: int
    call: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Expectation:
    profile: str
    clean: bool
    findings: tuple[ExpectedFinding, ...] = ()
    latency: tuple[ExpectedLatency, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    file: Path
    description: str = ""
    tags: tuple[str, ...] = ()
    seed: int = 0
    clock_start: datetime | None = None
    timezone: str = DEFAULT_TIMEZONE
    profile: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    businesses: tuple[BusinessSpec, ...] = ()
    steps: tuple[Step, ...] = ()
    expect: dict[str, Expectation] = field(default_factory=dict)
    detector_settings: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    target: str | None = None          # live mode: the server's base URL, if the scenario names one
    model: dict[str, Any] = field(default_factory=dict)  # live mode: the emulated realtime model's behaviour
    limits: Limits = DEFAULT_LIMITS
    side_files_root: Path | None = None  # where its side files are, if not beside it (a Dask worker's copy)

    @property
    def folder(self) -> Path:
        return self.file.parent

    @property
    def side_files_folder(self) -> Path:
        """The folder side files must stay inside when they are opened (the scenario's own, normally)."""
        return self.side_files_root or self.folder

    def profiles_to_run(self) -> list[str]:
        """The profiles ``expect`` names, else the scenario's default profile, else ``fixed``."""
        if self.expect:
            return list(self.expect)
        return [self.profile or "fixed"]

    def call_sids(self) -> list[str]:
        seen: dict[str, None] = {}
        for step in self.steps:
            sid = getattr(step, "call", None) or (step.params.get("CallSid") if isinstance(step, WebhookStep) else None)
            if sid:
                seen.setdefault(sid, None)
        return list(seen)
