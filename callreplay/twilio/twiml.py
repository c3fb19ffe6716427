"""TwiML read the way Twilio reads it, and judged against its documented rules.

``parse_twiml`` never raises on what a server returns: the server is untrusted and possibly wrong,
and a wrong answer is what callreplay is there to report. Each broken rule becomes a
``TwimlProblem`` with Twilio's error code, a level and a location such as
``Response/Connect[1]/Stream[1]@track``. Document-level errors (11750 too large, 12300 bad
Content-Type, 12100 not parseable XML or no ``<Response>`` root) leave the document with no verbs:
Twilio executes none of it. Element-level problems (12200 and the ``<Stream>`` codes) drop or
default only the offending part, the way Twilio keeps going after a schema warning.

The XML goes through defusedxml with DTDs, entities and external references forbidden: TwiML
needs none of them, and they are how a hostile document attacks a parser.

Rules and their codes are tabled in docs/emulators-twilio.md; the facts are in
shared/twilio-voice.md section 4 and shared/twilio-media-streams.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urldefrag, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from .twiml_grammar import ATTRIBUTES, CHILDREN, ROOT

MAX_BODY_BYTES = 64 * 1024  # 11750
ACCEPTED_CONTENT_TYPES = ("text/xml", "application/xml")
# <Parameter> limits are not documented for TwiML; we apply the REST Streams API's (Parameter1..99).
MAX_STREAM_PARAMETERS = 99
STREAM_TRACKS = ("inbound_track", "outbound_track", "both_tracks")
HTTP_METHODS = ("GET", "POST")

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class TwimlProblem:
    """One broken rule. ``code`` is Twilio's error code, or None for what callreplay cannot emulate."""

    code: int | None
    level: Level
    message: str
    location: str


@dataclass(frozen=True, slots=True)
class TwimlElement:
    """A verb or noun as Twilio keeps it: known attributes only, text content, valid children."""

    name: str
    attrs: Mapping[str, str]
    text: str
    children: tuple[TwimlElement, ...]
    location: str

    def child(self, name: str) -> TwimlElement | None:
        return next((element for element in self.children if element.name == name), None)


@dataclass(frozen=True, slots=True)
class TwimlDocument:
    """A parsed response: the verbs Twilio will run (none after a document-level error) and the
    problems found. ``url`` is the URL it came from, the base for relative URLs in it."""

    url: str
    verbs: tuple[TwimlElement, ...]
    problems: list[TwimlProblem] = field(default_factory=list)

    @property
    def executable(self) -> bool:
        return not any(problem.code in (11750, 12100, 12300) for problem in self.problems)


def resolve_url(document_url: str, ref: str) -> str:
    """``ref`` (absolute, or relative to the document it appears in) as the URL Twilio requests.

    The fragment is dropped: Twilio reads connection overrides (``#ct=...``) from it and never
    sends it. A relative ref keeps the document's scheme; a ``<Stream>`` URL is converted to
    ``wss``/``ws`` separately by ``resolve_stream_url``."""
    joined = urljoin(document_url, ref.strip())
    return urldefrag(joined).url


def resolve_stream_url(document_url: str, ref: str) -> str:
    """A ``<Stream url>``: absolute as given, or relative to the document with https -> wss and
    http -> ws (how Twilio resolves a relative Stream URL is unverified; this is our rule)."""
    ref = ref.strip()
    if urlsplit(ref).scheme:
        return urldefrag(ref).url
    resolved = resolve_url(document_url, ref)
    if resolved.startswith("https://"):
        return "wss://" + resolved[len("https://"):]
    if resolved.startswith("http://"):
        return "ws://" + resolved[len("http://"):]
    return resolved


def parse_twiml(body: str | bytes, content_type: str | None, url: str) -> TwimlDocument:
    """Parse a webhook response body into the verbs Twilio would run and the rules it breaks."""
    problems: list[TwimlProblem] = []
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        problems.append(TwimlProblem(11750, "error", f"response body is {len(raw)} bytes; Twilio accepts at most "
                                     f"{MAX_BODY_BYTES} (64 kB)", "body"))
        return TwimlDocument(url, (), problems)
    type_problem = _content_type_problem(content_type)
    if type_problem:
        problems.append(type_problem)
        return TwimlDocument(url, (), problems)
    root = _parse_xml(body, problems)
    if root is None:
        return TwimlDocument(url, (), problems)
    if root.tag != ROOT:
        problems.append(TwimlProblem(12100, "error", f"the root element is <{root.tag}>; TwiML needs <{ROOT}>",
                                     root.tag))
        return TwimlDocument(url, (), problems)
    _check_attributes(root, ROOT, problems)
    if (root.text or "").strip():
        problems.append(TwimlProblem(12200, "warning", "text directly inside <Response> is ignored", ROOT))
    verbs = _children(root, ROOT, ROOT, problems)
    for verb in verbs:
        _check_verb(verb, url, problems)
    _check_stream_names(verbs, problems)
    return TwimlDocument(url, verbs, problems)


# -- document level ------------------------------------------------------------------------------

def _content_type_problem(content_type: str | None) -> TwimlProblem | None:
    if not content_type or not content_type.strip():
        return TwimlProblem(12300, "error", "the response has no Content-Type; Twilio needs text/xml or "
                            "application/xml", "headers/Content-Type")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        return TwimlProblem(12300, "error", f"Content-Type {media_type!r} is not TwiML; use "
                            f"{' or '.join(ACCEPTED_CONTENT_TYPES)}", "headers/Content-Type")
    return None


_DECLARATION = re.compile(r"<\?xml[\s?]")


def _parse_xml(body: str | bytes, problems: list[TwimlProblem]) -> Element | None:
    text = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    text = text.removeprefix("\ufeff")
    declaration = _DECLARATION.search(text)
    if declaration and declaration.start() > 0:
        before = text[: declaration.start()]
        shown = repr(before if len(before) <= 20 else before[:20] + "...")
        problems.append(TwimlProblem(12100, "error", f"{declaration.start()} character(s) before the XML "
                                     f"declaration ({shown}); nothing may precede it", "body"))
        return None
    try:
        return SafeElementTree.fromstring(body, forbid_dtd=True)
    except ParseError as error:
        line, column = error.position
        problems.append(TwimlProblem(12100, "error", f"not well-formed XML: {error}", f"body:{line}:{column + 1}"))
    except (defusedxml.DTDForbidden, defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as error:
        problems.append(TwimlProblem(12100, "error", f"{type(error).__name__}: TwiML has no DTD or entities",
                                     "body"))
    except ValueError as error:  # e.g. an encoding declaration on an already-decoded str
        problems.append(TwimlProblem(12100, "error", f"not parseable XML: {error}", "body"))
    return None


# -- element level -------------------------------------------------------------------------------

def _children(parent: Element, parent_name: str, parent_location: str,
              problems: list[TwimlProblem]) -> tuple[TwimlElement, ...]:
    allowed = CHILDREN.get(parent_name, frozenset())
    counts: dict[str, int] = {}
    kept: list[TwimlElement] = []
    for node in parent:
        if not isinstance(node.tag, str):  # comments and processing instructions
            continue
        counts[node.tag] = counts.get(node.tag, 0) + 1
        location = f"{parent_location}/{node.tag}[{counts[node.tag]}]"
        if node.tag not in allowed:
            problems.append(TwimlProblem(12200, "warning", _placement_message(node.tag, parent_name, allowed),
                                         location))
            continue
        attrs = _check_attributes(node, location, problems)
        text = "".join(node.itertext()).strip() if node.tag == "Say" else (node.text or "").strip()
        kept.append(TwimlElement(node.tag, attrs, text, _children(node, node.tag, location, problems), location))
    return tuple(kept)


def _placement_message(tag: str, parent: str, allowed: frozenset[str]) -> str:
    known = {name.lower(): name for name in CHILDREN}
    if tag not in CHILDREN and tag.lower() in known:
        return f"<{tag}> is not a TwiML element (names are case-sensitive): did you mean <{known[tag.lower()]}>?"
    if tag not in CHILDREN:
        return f"<{tag}> is not a TwiML element; <{parent}> may hold {_choices(allowed)}"
    return f"<{tag}> is not allowed inside <{parent}>; it may hold {_choices(allowed)}"


def _choices(allowed: frozenset[str]) -> str:
    return ", ".join(f"<{name}>" for name in sorted(allowed)) if allowed else "no elements"


def _check_attributes(node: Element, location: str, problems: list[TwimlProblem]) -> dict[str, str]:
    known = ATTRIBUTES.get(node.tag, frozenset())
    kept: dict[str, str] = {}
    for name, value in node.attrib.items():
        if name in known:
            kept[name] = value
            continue
        lowered = {attr.lower(): attr for attr in known}
        hint = f" (names are case-sensitive: did you mean {lowered[name.lower()]!r}?)" if name.lower() in lowered else ""
        allowed = ", ".join(sorted(known)) or "none"
        problems.append(TwimlProblem(12200, "warning", f"<{node.tag}> has no attribute {name!r}{hint}; it takes "
                                     f"{allowed}", f"{location}@{name}"))
    for name, value in kept.items():
        if (name == "method" or name.endswith("Method")) and value.upper() not in HTTP_METHODS:
            problems.append(TwimlProblem(12200, "warning", f"{name}={value!r} is not GET or POST; POST is used",
                                         f"{location}@{name}"))
    return kept


def _check_verb(verb: TwimlElement, document_url: str, problems: list[TwimlProblem]) -> None:
    if verb.name in ("Connect", "Start", "Stop"):
        names = [child.name for child in verb.children]
        if verb.name == "Connect" and len(names) > 1:
            problems.append(TwimlProblem(12200, "warning", f"<Connect> holds one noun; found {', '.join(names)}: "
                                         "only the first runs", verb.location))
        for child in verb.children:
            if child.name == "Stream":
                check_stream(child, verb.name, document_url, problems)
    if verb.name in ("Redirect", "Play") and not verb.text:
        problems.append(TwimlProblem(11100, "error", f"<{verb.name}> has no URL", verb.location))


def _check_stream_names(verbs: tuple[TwimlElement, ...], problems: list[TwimlProblem]) -> None:
    """A started stream's ``name`` must be unique per call; within one document we can tell."""
    seen: set[str] = set()
    for verb in verbs:
        if verb.name not in ("Connect", "Start"):
            continue
        for stream in (child for child in verb.children if child.name == "Stream"):
            name = stream.attrs.get("name")
            if name is None:
                continue
            if name in seen:
                problems.append(TwimlProblem(12200, "warning", f"a second stream named {name!r}: stream names must "
                                             "be unique per call", f"{stream.location}@name"))
            seen.add(name)


def check_stream(stream: TwimlElement, verb: str, document_url: str, problems: list[TwimlProblem]) -> None:
    """The ``<Stream>`` rules: URL scheme and form (31922/31923), the track for the verb (31941),
    the documented-unsupported query string and the ``<Parameter>`` children."""
    where = stream.location
    track = stream.attrs.get("track", "inbound_track")
    if verb == "Connect" and track != "inbound_track":
        problems.append(TwimlProblem(31941, "error", f"track={track!r}: <Connect><Stream> accepts only inbound_track",
                                     f"{where}@track"))
    elif verb == "Start" and track not in STREAM_TRACKS:
        problems.append(TwimlProblem(31941, "error", f"track={track!r} is not one of {', '.join(STREAM_TRACKS)}",
                                     f"{where}@track"))
    if verb != "Stop":
        _check_stream_url(stream.attrs.get("url"), document_url, f"{where}@url", problems)
    seen: set[str] = set()
    parameters = [child for child in stream.children if child.name == "Parameter"]
    for parameter in parameters:
        name = parameter.attrs.get("name")
        if not name:
            problems.append(TwimlProblem(12200, "warning", "<Parameter> without a name is dropped",
                                         parameter.location))
        elif name in seen:
            problems.append(TwimlProblem(12200, "warning", f"<Parameter name={name!r}> repeats; the last value wins",
                                         parameter.location))
        if name:
            seen.add(name)
    if len(parameters) > MAX_STREAM_PARAMETERS:
        problems.append(TwimlProblem(12200, "warning", f"{len(parameters)} <Parameter>s; callreplay keeps the first "
                                     f"{MAX_STREAM_PARAMETERS} (the REST Streams API limit; TwiML's is undocumented)",
                                     where))


def _check_stream_url(url: str | None, document_url: str, where: str, problems: list[TwimlProblem]) -> None:
    if url is None or not url.strip():
        problems.append(TwimlProblem(31923, "error", "<Stream> has no url", where))
        return
    resolved = resolve_stream_url(document_url, url)
    try:
        parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        problems.append(TwimlProblem(31923, "error", f"malformed Stream url {url!r}: {error}", where))
        return
    if not parts.hostname or any(char.isspace() for char in resolved):
        problems.append(TwimlProblem(31923, "error", f"malformed Stream url {url!r} (resolved: {resolved!r})", where))
        return
    if parts.scheme != "wss":
        problems.append(TwimlProblem(31922, "error", f"Stream url scheme is {parts.scheme!r}; Twilio supports only "
                                     f"wss (url {resolved!r})", where))
    if parts.query:
        problems.append(TwimlProblem(31923, "warning", f"Stream url has a query string ({parts.query!r}), which "
                                     "Twilio documents as unsupported: use <Parameter>", where))
