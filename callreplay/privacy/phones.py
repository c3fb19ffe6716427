"""Which parts of a text are phone numbers, and which numbers they are (E.164), for every output.

Found in two steps: a cheap scan for runs of digits and separators (``050 444 5566``,
``(415) 523-8886``, ``053.222.3344``, digits inside a word), then the ``phonenumbers`` library
decides whether a part of the run is a number. How much evidence a run needs depends on how it is
written:

- ``+`` or ``00`` then a country code: any *possible* number (phonenumbers' length rules), or,
  written without separators, any 8 to 15 digits under an assigned country code;
- a national trunk ``0`` (``050-123-4567``, ``020 7946 0958``), 9 digits or more: possible in one of
  the regions (:data:`PHONE_REGIONS`), and that region's number for the first such region;
- no prefix: 11 to 15 digits that start with the country code of one of the regions
  (``972541112233``), a separated form of 9+ digits valid in one of the regions (``(415) 523-8886``),
  or 10 bare digits valid in North America; a bare run of 7 to 9 digits is never a phone.

Runs inside identifiers are left alone: a run whose surrounding letters-and-digits token has a letter
and is 20 or more characters (12 if it is all hex) is a CallSid, a hash or base64 audio, not a phone;
neither is a date, a decimal (one dot) or a trunk-``0`` run of fewer than 9 digits (``SES-03051488``).

The regions come from ``CALLREPLAY_PHONE_REGIONS`` (a comma list of ISO codes; the first wins when a
national form fits several). The default puts Israel first, then the most common calling regions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

DEFAULT_REGIONS = ("IL", "US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "BR", "MX")
MIN_DIGITS, MAX_DIGITS = 7, 15
MIN_NATIONAL_DIGITS = 9  # trunk 0 included: ``03-123-4567``; an 8-digit ``SES-03051488`` is an id
ID_TOKEN_MIN, HEX_ID_MIN = 20, 12

_RUN = re.compile(r"\+?\(?\d(?:[ \u00a0.\-/()]{0,3}\d){6,}")  # 7+ digits, separators between
_GROUP = re.compile(r"\d+")
_DATE = re.compile(r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})$")
_ID_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


def _regions_from_env() -> tuple[str, ...]:
    text = os.environ.get("CALLREPLAY_PHONE_REGIONS", "")
    wanted = tuple(r.strip().upper() for r in text.split(",") if r.strip())
    known = phonenumbers.SUPPORTED_REGIONS
    return tuple(r for r in wanted if r in known) or DEFAULT_REGIONS


PHONE_REGIONS: tuple[str, ...] = _regions_from_env()
_REGION_CODES = frozenset(phonenumbers.country_code_for_region(r) for r in PHONE_REGIONS)


class PhoneMatch(NamedTuple):
    start: int
    end: int
    e164: str


def _parse(digits: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(digits if region else "+" + digits, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _international(digits: str, separated: bool) -> str | None:
    """``+`` and a country code: a possible number, or (written without separators, so nothing else
    could be joined to it) any 8 to 15 digits under an assigned country code."""
    number = _parse(digits, None)
    if number is None or number.country_code is None:
        return None
    if phonenumbers.region_code_for_country_code(number.country_code) == "ZZ":
        return None
    if phonenumbers.is_possible_number(number) or (not separated and 8 <= len(digits) <= MAX_DIGITS):
        return _e164(number)
    return None


def _national(digits: str) -> str | None:
    """A trunk-``0`` national form: the number it is in the first region where it can be one."""
    for region in PHONE_REGIONS:
        number = _parse(digits, region)
        if number is not None and phonenumbers.is_possible_number(number):
            return _e164(number)
    return None


def _unprefixed(digits: str, separated: bool) -> str | None:
    """No ``+`` and no trunk ``0``: an international number missing its ``+`` (11+ digits under a
    region's country code), a separated national form valid in a region (``(415) 523-8886``, 9+ digits),
    or 10 bare digits valid in North America (where numbers have no trunk prefix)."""
    if len(digits) >= 11:
        number = _parse(digits, None)
        if number is not None and number.country_code in _REGION_CODES and phonenumbers.is_possible_number(number):
            return _e164(number)
    regions = PHONE_REGIONS if separated and len(digits) >= 9 else ("US",) if len(digits) == 10 else ()
    for region in regions:
        number = _parse(digits, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return _e164(number)
    return None


@lru_cache(maxsize=65536)
def _number_of(digits: str, plus: bool, separated: bool) -> str | None:
    """The E.164 number these digits are, as written (``plus``: a ``+`` before them), or None."""
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS + 2:
        return None
    if plus:
        return _international(digits, separated)
    if digits.startswith("00"):
        return _international(digits[2:], separated)
    if len(digits) > MAX_DIGITS:
        return None
    if digits.startswith("0"):
        return _national(digits) if len(digits) >= MIN_NATIONAL_DIGITS else None
    return _unprefixed(digits, separated)


def _inside_identifier(text: str, index: int) -> bool:
    start = end = index
    while start > 0 and text[start - 1] in _ID_TOKEN_CHARS:
        start -= 1
    while end < len(text) and text[end] in _ID_TOKEN_CHARS:
        end += 1
    token = text[start:end]
    if token.isdigit():
        return False
    return len(token) >= ID_TOKEN_MIN or (len(token) >= HEX_ID_MIN and all(ch in _HEX for ch in token))


def _is_number_literal(run: str) -> bool:
    """A decimal (``1767859200.000``: one dot) or a date (``2026-01-08``): digits, but not a phone."""
    return run.count(".") == 1 or bool(_DATE.match(run))


def _longest_number(groups: list[re.Match[str]], i: int, *, plus: bool) -> tuple[int, str] | None:
    """The longest run of groups from ``i`` that is a phone number: (end group, E.164)."""
    for j in range(len(groups), i, -1):
        digits = "".join(g.group(0) for g in groups[i:j])
        if len(digits) < MIN_DIGITS:
            return None
        e164 = _number_of(digits, plus, j - i > 1)
        if e164 is not None:
            return j, e164
    return None


def find_phones(text: str) -> list[PhoneMatch]:
    """Every phone number in ``text``: where it is written and which number it is."""
    found: list[PhoneMatch] = []
    for run in _RUN.finditer(text):
        if not _is_number_literal(run.group(0)):
            found.extend(_numbers_in_run(text, run))
    return found


def _numbers_in_run(text: str, run: re.Match[str]) -> Iterator[PhoneMatch]:
    """Left to right, the longest phone number starting at each digit group not yet taken."""
    plus = run.group(0).startswith("+")
    groups = list(_GROUP.finditer(run.group(0)))
    lead = groups[0].start()  # a "+" or "(" written before the first group belongs to its number
    # only the end groups can be part of a longer identifier (separators split the inner ones off)
    if run.start() > 0 and text[run.start() - 1] in _ID_TOKEN_CHARS and _inside_identifier(text, run.start()):
        groups, plus, lead = groups[1:], False, 0
    if groups and run.end() < len(text) and text[run.end()] in _ID_TOKEN_CHARS \
            and _inside_identifier(text, run.start() + groups[-1].start()):
        groups = groups[:-1]
    i = 0
    while i < len(groups):
        first = i == 0
        match = _longest_number(groups, i, plus=first and plus)
        if match is None:
            i += 1
            continue
        j, e164 = match
        start = run.start() + groups[i].start() - (lead if first else 0)
        yield PhoneMatch(start, run.start() + groups[j - 1].end(), e164)
        i = j


def e164_of(written: str) -> str | None:
    """The E.164 form of one phone number as written in any recognised form, or None."""
    matches = find_phones(written.strip())
    return matches[0].e164 if len(matches) == 1 else None


def replace_phones(text: str, replacement: Callable[[str, str], str]) -> str:
    """``text`` with each phone replaced by ``replacement(written, e164)``."""
    matches = find_phones(text)
    if not matches:
        return text
    out, last = [], 0
    for m in matches:
        out.append(text[last:m.start])
        out.append(replacement(text[m.start:m.end], m.e164))
        last = m.end
    out.append(text[last:])
    return "".join(out)
