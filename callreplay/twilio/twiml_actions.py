"""What Twilio does with a parsed TwiML document, as typed actions a driver executes in order.

``walk(document)`` turns the verbs into actions, top to bottom, and stops where Twilio's control
leaves the document: ``Redirect``, ``Hangup``, ``Reject``, a ``ConnectStream`` or ``Gather`` whose
``action`` URL will supply the next document, or ``End`` when the verbs run out (Twilio hangs up).
The driver runs each action (a ``ConnectStream`` blocks until the socket closes; a ``StartStream``
forks and returns at once) and, when the last action names a URL, fetches it and walks again.

Nothing here raises on what a server wrote: what the walker cannot do becomes a problem next to
the actions (code None: a callreplay limitation, not a Twilio error), and a verb callreplay does
not emulate (``<Dial>``, ``<Record>``...) is an ``Unsupported`` action the driver reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .twiml import (
    MAX_STREAM_PARAMETERS,
    TwimlDocument,
    TwimlElement,
    TwimlProblem,
    resolve_stream_url,
    resolve_url,
)

WORDS_PER_MINUTE = 150  # a <Say> duration estimate; Twilio's TTS rate is not documented
LOOP_ZERO_ITERATIONS = 1000  # loop="0" repeats; the sheet documents 1000 for <Play> and we use it for <Say>
DIGIT_SECONDS = 0.5  # a <Play digits> tone, and a 'w' pause; tone length is our estimate


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    loop: int
    seconds: float  # all iterations, at WORDS_PER_MINUTE
    voice: str = "man"
    language: str = "en-US"


@dataclass(frozen=True, slots=True)
class Play:
    url: str
    loop: int
    digits: str = ""


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: int


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    method: str


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str


@dataclass(frozen=True, slots=True)
class _Stream:
    """What both kinds of ``<Stream>`` carry: where to connect, what to tell the app, whom to notify."""

    url: str
    name: str | None
    track: str
    parameters: dict[str, str]
    status_callback: str | None
    status_callback_method: str


@dataclass(frozen=True, slots=True)
class ConnectStream(_Stream):
    """Bidirectional stream: blocks until the socket closes, then ``action`` (if set) or the next verb."""

    action: str | None
    method: str


@dataclass(frozen=True, slots=True)
class StartStream(_Stream):
    """Unidirectional fork: starts and the next verb runs at once."""


@dataclass(frozen=True, slots=True)
class StopStream:
    name: str | None


@dataclass(frozen=True, slots=True)
class Gather:
    """Prompts, then waits ``timeout`` s for input. The replay gives none: Twilio falls through to
    the next verb, or requests ``action`` when ``action_on_empty_result``."""

    prompts: tuple[Say | Play | Pause, ...]
    input: str
    action: str
    method: str
    timeout: int
    finish_on_key: str
    num_digits: int | None
    action_on_empty_result: bool


@dataclass(frozen=True, slots=True)
class Unsupported:
    name: str


@dataclass(frozen=True, slots=True)
class End:
    """The verbs ran out: Twilio hangs up."""


Action = (Say | Play | Pause | Redirect | Hangup | Reject | ConnectStream | StartStream | StopStream | Gather
          | Unsupported | End)


@dataclass(frozen=True, slots=True)
class Walk:
    actions: tuple[Action, ...]
    problems: list[TwimlProblem] = field(default_factory=list)


def say_seconds(text: str, loop: int) -> float:
    """Estimated speaking time of ``text`` repeated ``loop`` times, at WORDS_PER_MINUTE."""
    words = len(text.split())
    return round(words * 60.0 / WORDS_PER_MINUTE * loop, 3)


def walk(document: TwimlDocument) -> Walk:
    """The actions Twilio takes for ``document``; an unexecutable document only hangs up."""
    problems: list[TwimlProblem] = []
    if not document.executable:
        return Walk((End(),), problems)
    actions: list[Action] = []
    for verb in document.verbs:
        action = _action_for(verb, document.url, problems)
        if action is None:
            continue
        actions.append(action)
        if _leaves_document(action):
            return Walk(tuple(actions), problems)
    actions.append(End())
    return Walk(tuple(actions), problems)


def _leaves_document(action: Action) -> bool:
    if isinstance(action, Redirect | Hangup | Reject):
        return True
    if isinstance(action, ConnectStream):
        return action.action is not None
    if isinstance(action, Gather):
        return action.action_on_empty_result
    return False


def _action_for(verb: TwimlElement, url: str, problems: list[TwimlProblem]) -> Action | None:
    name = verb.name
    if name in ("Say", "Play", "Pause"):
        return _prompt(verb, problems)
    if name == "Redirect":
        return Redirect(resolve_url(url, verb.text), _method(verb.attrs.get("method"))) if verb.text else None
    if name == "Hangup":
        return Hangup()
    if name == "Reject":
        reason = verb.attrs.get("reason", "rejected")
        if reason not in ("rejected", "busy"):
            problems.append(TwimlProblem(12200, "warning", f"reason={reason!r} is not rejected or busy; rejected is "
                                         "used", f"{verb.location}@reason"))
            reason = "rejected"
        return Reject(reason)
    if name == "Connect":
        return _connect(verb, url, problems)
    if name == "Start":
        return _start(verb, url, problems)
    if name == "Stop":
        stream = verb.child("Stream")
        if stream is None:
            return _unsupported(verb, f"Stop/{verb.children[0].name}" if verb.children else "Stop", problems)
        return StopStream(stream.attrs.get("name"))
    if name == "Gather":
        return _gather(verb, url, problems)
    return _unsupported(verb, name, problems)


def _unsupported(verb: TwimlElement, name: str, problems: list[TwimlProblem]) -> Unsupported:
    problems.append(TwimlProblem(None, "warning", f"callreplay does not emulate <{name}>; it is skipped",
                                 verb.location))
    return Unsupported(name)


def _prompt(verb: TwimlElement, problems: list[TwimlProblem]) -> Say | Play | Pause | None:
    if verb.name == "Pause":
        return Pause(_integer(verb, "length", 1, 1, problems))
    loop = _integer(verb, "loop", 1, 0, problems)
    iterations = loop or LOOP_ZERO_ITERATIONS
    if verb.name == "Say":
        return Say(verb.text, iterations, say_seconds(verb.text, iterations),
                   verb.attrs.get("voice", "man"), verb.attrs.get("language", "en-US"))
    if not verb.text:
        return None  # 11100 already reported by parse_twiml
    return Play(verb.text, iterations, verb.attrs.get("digits", ""))


def _integer(verb: TwimlElement, attr: str, default: int, minimum: int, problems: list[TwimlProblem]) -> int:
    raw = verb.attrs.get(attr)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        problems.append(TwimlProblem(12200, "warning", f"{attr}={raw!r} is not an integer >= {minimum}; {default} is "
                                     "used", f"{verb.location}@{attr}"))
        return default
    return value


def _method(value: str | None) -> str:
    return value.upper() if value and value.upper() in ("GET", "POST") else "POST"


def _stream_fields(stream: TwimlElement, url: str) -> dict:
    parameters: dict[str, str] = {}
    for parameter in [child for child in stream.children if child.name == "Parameter"][:MAX_STREAM_PARAMETERS]:
        if parameter.attrs.get("name"):
            parameters[parameter.attrs["name"]] = parameter.attrs.get("value", "")
    callback = stream.attrs.get("statusCallback")
    return {
        "url": resolve_stream_url(url, stream.attrs.get("url", "")),
        "name": stream.attrs.get("name"),
        "track": stream.attrs.get("track", "inbound_track"),
        "parameters": parameters,
        "status_callback": resolve_url(url, callback) if callback else None,
        "status_callback_method": _method(stream.attrs.get("statusCallbackMethod")),
    }


def _connect(verb: TwimlElement, url: str, problems: list[TwimlProblem]) -> Action:
    if not verb.children:
        problems.append(TwimlProblem(12200, "warning", "<Connect> without a noun does nothing", verb.location))
        return Unsupported("Connect")
    noun = verb.children[0]
    if noun.name != "Stream":
        return _unsupported(verb, f"Connect/{noun.name}", problems)
    if not noun.attrs.get("url", "").strip():
        return Unsupported("Connect/Stream")  # 31923 already reported: Twilio cannot open it
    action = verb.attrs.get("action")
    return ConnectStream(**_stream_fields(noun, url), action=resolve_url(url, action) if action else None,
                         method=_method(verb.attrs.get("method")))


def _start(verb: TwimlElement, url: str, problems: list[TwimlProblem]) -> Action | None:
    stream = verb.child("Stream")
    if stream is None:
        name = f"Start/{verb.children[0].name}" if verb.children else "Start"
        return _unsupported(verb, name, problems)
    if not stream.attrs.get("url", "").strip():
        return Unsupported("Start/Stream")
    return StartStream(**_stream_fields(stream, url))


def _gather(verb: TwimlElement, url: str, problems: list[TwimlProblem]) -> Gather:
    prompts = tuple(prompt for prompt in (_prompt(child, problems) for child in verb.children) if prompt)
    attrs = verb.attrs
    num_digits = _integer(verb, "numDigits", 0, 1, problems) if "numDigits" in attrs else None
    action = attrs.get("action")
    return Gather(
        prompts=prompts,
        input=attrs.get("input", "dtmf"),
        action=resolve_url(url, action) if action else url,
        method=_method(attrs.get("method")),
        timeout=_integer(verb, "timeout", 5, 1, problems),
        finish_on_key=attrs.get("finishOnKey", "#"),
        num_digits=num_digits or None,
        action_on_empty_result=attrs.get("actionOnEmptyResult", "false").strip().lower() == "true",
    )
