"""The wire sanitiser: what happens to a prompt between the builder and ``session.update``.

Spec §4.4. The pipeline never sends the built prompt as built: ``sanitize_realtime_instructions``
rewrites it first (hazard H8), so a faithful replay must apply the same rewrite before any detector
looks at "what the model was told". The two public functions mirror the two stages of the spec:

``sanitize_for_realtime(text, max_chars)``, the content stage, in this order:
  1. e-mail addresses -> ``[email]``;
  2. phone numbers -> ``[phone]``: international first, then Israeli mobile, then landline;
  3. URLs, ``www.`` tokens and bare ``*.com|net|org|co.il|il`` domains are deleted;
  4. ``key_id=value`` pairs, ``<Kind> ID <8+ chars>`` and UUIDs are deleted;
  5. technical markers are deleted;
  6. ``!!``+ -> ``!``, ``??``+ -> ``?``, ``...``+ -> ``.``;
  7. bidi marks and Hebrew points (niqqud, cantillation) are deleted;
  8. whitespace is collapsed (this already flattens newlines);
  9. the text is cut to ``max_chars`` on a boundary that keeps at least 70% (0 means no cap).

``sanitize_realtime_instructions(text, max_chars=FULL_PROMPT_MAX_CHARS)``, the layout stage: stage one with
``2 * max_chars``, then fenced code blocks, literal ``\\n`` and newlines, box drawing, arrows and
emoji become spaces, each run of ``` ` * _ > # | ``` and ``•●▪▫◆◇■□`` becomes one space, whitespace
is collapsed, and the result is cut to ``max_chars`` on a boundary that keeps at least 60%.

Choices made where the spec names a rule but not its pattern (all ASCII digits, ``[ .-]`` as the
digit-group separator, and no digit directly before or after a phone match):

- e-mail: ``local@domain.tld``, local part ``[A-Za-z0-9._%+-]`` starting alphanumeric (so the
  Hebrew ``ל-`` prefix in ``ל-info@x.com`` stays), a 2+ letter TLD.
- international phone: ``+`` then 8-15 digits, digits separated by at most two of ``space . - ( )``,
  so ``+972-50-123-4567`` and ``+1 (212) 555-1234`` match as one token.
- Israeli mobile: ``05X`` then 7 digits, grouped ``05X-XXXXXXX``, ``05X-XXX-XXXX``,
  ``05X XXX XXXX`` or ungrouped; also with a ``972`` prefix and no ``+`` (``972-50-1234567``).
- Israeli landline: ``0`` + area code (``2 3 4 8 9`` or ``7X``) then 7 digits, grouped like mobile.
- URL: ``http(s)://`` or ``www.`` up to whitespace; bare domain: dotted labels ending in one of the
  five TLDs (case-insensitive), with an optional ``/path``. Trailing sentence punctuation
  (``. , ; : ! ? ) ] " '``) is left in place, so the sentence end survives the deletion.
- key/value ids: any ``word_id`` or ``word_sid`` key (``lead_id``, ``business_id``, ``stream_sid``),
  then ``=`` or ``:``, then a value up to whitespace, ``,`` or ``;``; case-insensitive.
- kind ids: ``Business|Lead|Call|Customer|Session|Tenant|Stream|Response`` + ``ID`` (any case),
  optional ``: = #``, then an id of 8+ ``[A-Za-z0-9_-]``. ``Business ID: 123`` (too short) survives,
  so the builder header ``BUSINESS PROMPT (Business ID: 7, Name: X, Call: INBOUND):`` survives.
- markers (upper case, underscore forms only, starting at a word boundary): ``##NAME##``,
  ``BEGIN_*``, ``END_*``, ``START_*``, ``CRM_CONTEXT*``, ``BUSINESS_PROMPT*``, ``SYSTEM_PROMPT*``.
  ``BUSINESS PROMPT`` with a space is not a marker.
- emoji: U+1F000-U+1FAFF (all supplementary pictograph blocks, flags included), U+2300-U+23FF,
  U+2600-U+27BF (symbols and dingbats), U+2B00-U+2BFF, and the joiners U+200D, U+20E3, U+FE0E/F.
- box drawing, arrows and emoji become a space rather than nothing, so ``a→b`` reads ``a b``.
- the boundary cut keeps ``text[:cap]`` up to its last space when that space sits at or after
  ``int(cap * ratio)``; otherwise it is a hard cut. A space always follows a sentence end in
  collapsed text, so the last space is also the latest sentence boundary. A text that breaks
  exactly at the cap still loses its last word, as the pipeline's cut does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .constants import FULL_PROMPT_MAX_CHARS  # the cap the WS handler and the realtime client both pass

__all__ = [
    "FULL_PROMPT_MAX_CHARS",
    "sanitize_changed_length_log",
    "sanitize_for_realtime",
    "sanitize_realtime_instructions",
]

_CONTENT_BOUNDARY_RATIO = 0.7
_LAYOUT_BOUNDARY_RATIO = 0.6

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)

_PHONE_INTERNATIONAL = re.compile(r"\+\(?\d(?:[ .\-()]{0,2}\d){7,14}(?!\d)")
_PHONE_MOBILE = re.compile(r"(?<!\d)(?:972[ .-]?0?|0)5\d[ .-]?\d{3}[ .-]?\d{4}(?!\d)")
_PHONE_LANDLINE = re.compile(r"(?<!\d)0(?:[2-489]|7\d)[ .-]?\d{3}[ .-]?\d{4}(?!\d)")

# A URL ends before trailing sentence punctuation that is followed by whitespace or the end.
_URL_END = r"(?=[.,;:!?)\]\"']*(?:\s|$))"
_URL = re.compile(r"https?://\S+?" + _URL_END, re.IGNORECASE)
_WWW = re.compile(r"(?<![\w.])www\.\S+?" + _URL_END, re.IGNORECASE)
_DOMAIN = re.compile(
    r"(?<![\w.@-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|net|org|co\.il|il)\b(?:/\S*?)?" + _URL_END,
    re.IGNORECASE,
)

_ID_PAIR = re.compile(r"\b[A-Za-z]+(?:_[A-Za-z]+)*_(?:id|sid)\b\s*[=:]\s*[^\s,;]+", re.IGNORECASE)
_KIND_ID = re.compile(
    r"\b(?:business|lead|call|customer|session|tenant|stream|response)\s+id\b\s*[:=#]?\s*[A-Za-z0-9_-]{8,}",
    re.IGNORECASE,
)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)

_MARKERS = re.compile(
    r"##[A-Z0-9_]+##"
    r"|\b(?:BEGIN|END|START)_[A-Z0-9_]+"
    r"|\bCRM_CONTEXT[A-Z0-9_]*"
    r"|\b(?:BUSINESS|SYSTEM)_PROMPT[A-Z0-9_]*"
)

_BANGS = re.compile(r"!{2,}")
_QUESTIONS = re.compile(r"\?{2,}")
_DOTS = re.compile(r"\.{3,}")
_BIDI_AND_NIQQUD = re.compile("[\u200e\u200f\u202a-\u202e\u0591-\u05c7]")
_DIGIT = re.compile(r"\d")
_TLD_HINT = re.compile(r"\.(?:com|net|org|co\.il|il)\b", re.IGNORECASE)
_ID_PAIR_HINT = re.compile(r"_s?id\b", re.IGNORECASE)
_KIND_ID_HINT = re.compile(r"\sid\b", re.IGNORECASE)
_UUID_HINT = re.compile(r"-[0-9a-f]{4}-", re.IGNORECASE)
_MARKER_HINTS = ("##", "BEGIN_", "END_", "START_", "CRM_CONTEXT", "_PROMPT")

_CODE_FENCE = re.compile(r"```[\s\S]*?```")
_LAYOUT_SYMBOLS = re.compile(
    "["
    "\u2500-\u257f"  # box drawing
    "\u2190-\u21ff\u27f0-\u27ff\u2900-\u297f"  # arrows, supplemental arrows A and B
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, flags, supplemental symbols
    "\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff"  # technical, misc symbols, dingbats, stars
    "\u200d\u20e3\ufe0e\ufe0f"  # joiners and presentation selectors left behind by emoji
    "]+"
)
_MARKDOWN_RUN = re.compile("[`*_>#|\u2022\u25cf\u25aa\u25ab\u25c6\u25c7\u25a0\u25a1]+")


def _cut_at_boundary(text: str, cap: int, ratio: float) -> str:
    """Cap ``text`` the way the pipeline does: at the last space if it keeps ``ratio`` of the cap."""
    if not cap or len(text) <= cap:
        return text
    cut = text[:cap]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary >= int(cap * ratio):
        return cut[:boundary].strip()
    return cut.strip()


# Content rules in spec order. Each has a cheap necessary condition, so a prompt without an "@" or a
# "+" never pays for a full regex scan; the guard never changes what a rule does.
_CONTENT_RULES: tuple[tuple[re.Pattern[str], str, Callable[[str], bool]], ...] = (
    (_EMAIL, "[email]", lambda t: "@" in t),
    (_PHONE_INTERNATIONAL, "[phone]", lambda t: "+" in t),
    (_PHONE_MOBILE, "[phone]", lambda t: _DIGIT.search(t) is not None),
    (_PHONE_LANDLINE, "[phone]", lambda t: _DIGIT.search(t) is not None),
    (_URL, "", lambda t: "://" in t),
    (_WWW, "", lambda t: "www." in t.lower()),
    (_DOMAIN, "", lambda t: _TLD_HINT.search(t) is not None),
    (_ID_PAIR, "", lambda t: _ID_PAIR_HINT.search(t) is not None),
    (_KIND_ID, "", lambda t: _KIND_ID_HINT.search(t) is not None),
    (_UUID, "", lambda t: _UUID_HINT.search(t) is not None),
    (_MARKERS, "", lambda t: any(hint in t for hint in _MARKER_HINTS)),
    (_BANGS, "!", lambda t: "!!" in t),
    (_QUESTIONS, "?", lambda t: "??" in t),
    (_DOTS, ".", lambda t: "..." in t),
    (_BIDI_AND_NIQQUD, "", lambda t: True),
)


def _collapse(text: str) -> str:
    """Collapse every whitespace run to one space and trim (``str.split`` is ``\\s+`` here)."""
    return " ".join(text.split())


def sanitize_for_realtime(text: str | None, max_chars: int) -> str:
    """Content stage of §4.4: strip PII, ids and markers so the model never reads them."""
    if not text:
        return ""
    for pattern, replacement, may_match in _CONTENT_RULES:
        if may_match(text):
            text = pattern.sub(replacement, text)
    return _cut_at_boundary(_collapse(text), max_chars, _CONTENT_BOUNDARY_RATIO)


def sanitize_realtime_instructions(text: str | None, max_chars: int = FULL_PROMPT_MAX_CHARS) -> str:
    """Both stages of §4.4: the single line the realtime session is actually configured with."""
    if not text:
        return ""
    text = sanitize_for_realtime(text, max_chars * 2)
    text = _CODE_FENCE.sub(" ", text)
    text = text.replace("\\n", " ").replace("\n", " ")
    text = _LAYOUT_SYMBOLS.sub(" ", text)
    text = _MARKDOWN_RUN.sub(" ", text)
    text = _collapse(text)
    return _cut_at_boundary(text, max_chars, _LAYOUT_BOUNDARY_RATIO)


def sanitize_changed_length_log(before: str, after: str, *, cap: int = FULL_PROMPT_MAX_CHARS) -> str | None:
    """The H8 symptom line, or None: the pipeline logs it only when sanitising changed the length."""
    if len(before) == len(after):
        return None
    return f"🧽 [PROMPT_SANITIZE] instructions_len {len(before)}→{len(after)} (cap={cap})"
