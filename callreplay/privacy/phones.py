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
neither is a date, a decimal (one dot, or dots beside other separators) or a trunk-``0`` run of fewer than 9 digits (``SES-03051488``).

The regions come from ``CALLREPLAY_PHONE_REGIONS`` (a comma list of ISO codes; the first wins when a
national form fits several); the default is a neutral list of common calling regions. Where a caller
knows the country of its data, it passes its own order: the capture redactor puts first the regions
of the international numbers it has already seen (Twilio sends ``From``/``To`` in E.164), so a
capture's ``050-123-4567`` is read as the Israeli number its webhooks named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IL", "IN", "AU", "BR", "MX")
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


@lru_cache(maxsize=256)
def _country_codes(regions: tuple[str, ...]) -> frozenset[int]:
    return frozenset(phonenumbers.country_code_for_region(r) for r in regions)


@lru_cache(maxsize=256)
def _trunk_zero(region: str) -> bool:
    """Whether national numbers of ``region`` are dialled with a leading 0 (not in North America)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata is not None and metadata.national_prefix == "0"


def region_of(e164: str) -> str | None:
    """The ISO region an E.164 number belongs to (``+972...`` -> ``IL``), or None."""
    number = _parse(e164.lstrip("+"), None)
    region = phonenumbers.region_code_for_number(number) if number is not None else None
    return region if region and region != "ZZ" else None


def with_first(regions: tuple[str, ...], region: str) -> tuple[str, ...]:
    """``regions`` with ``region`` moved (or added) to the front."""
    return (region, *(r for r in regions if r != region))


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


def _national(digits: str, regions: tuple[str, ...]) -> str | None:
    """A trunk-``0`` national form: the number it is in the first region where it can be one."""
    for region in regions:
        if not _trunk_zero(region):
            continue
        number = _parse(digits, region)
        if number is not None and phonenumbers.is_possible_number(number):
            return _e164(number)
    return None


def _unprefixed(digits: str, separated: bool, regions: tuple[str, ...]) -> str | None:
    """No ``+`` and no trunk ``0``: an international number missing its ``+`` (11+ digits under a
    region's country code), a separated national form valid in a region (``(415) 523-8886``, 9+ digits),
    or 10 bare digits valid in North America (where numbers have no trunk prefix)."""
    if len(digits) >= 11:
        number = _parse(digits, None)
        if number is not None and number.country_code in _country_codes(regions) and phonenumbers.is_possible_number(number):
            return _e164(number)
    tried = regions if separated and len(digits) >= 9 else ("US",) if len(digits) == 10 else ()
    for region in tried:
        number = _parse(digits, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return _e164(number)
    return None


@lru_cache(maxsize=65536)
def _number_of(digits: str, plus: bool, separated: bool, regions: tuple[str, ...]) -> str | None:
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
        return _national(digits, regions) if len(digits) >= MIN_NATIONAL_DIGITS else None
    return _unprefixed(digits, separated, regions)


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
    """A decimal (``1767859200.000``: one dot), decimals in a list (``106.5 1009.0``: dots beside other
    separators, as in SVG points) or a date (``2026-01-08``): digits, but not a phone."""
    dots = run.count(".")
    if dots == 1 or (dots and any(ch in run for ch in " \u00a0-/()")):
        return True
    return bool(_DATE.match(run))


def _longest_number(groups: list[re.Match[str]], i: int, *, plus: bool,
                    regions: tuple[str, ...]) -> tuple[int, str] | None:
    """The longest run of groups from ``i`` that is a phone number: (end group, E.164)."""
    for j in range(len(groups), i, -1):
        digits = "".join(g.group(0) for g in groups[i:j])
        if len(digits) < MIN_DIGITS:
            return None
        e164 = _number_of(digits, plus, j - i > 1, regions)
        if e164 is not None:
            return j, e164
    return None


def find_phones(text: str, regions: tuple[str, ...] = PHONE_REGIONS) -> list[PhoneMatch]:
    """Every phone number in ``text``: where it is written and which number it is (national forms read
    in ``regions``, the first that fits wins)."""
    found: list[PhoneMatch] = []
    for run in _RUN.finditer(text):
        if not _is_number_literal(run.group(0)):
            found.extend(_numbers_in_run(text, run, regions))
    return found


def _numbers_in_run(text: str, run: re.Match[str], regions: tuple[str, ...]) -> Iterator[PhoneMatch]:
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
        match = _longest_number(groups, i, plus=first and plus, regions=regions)
        if match is None:
            i += 1
            continue
        j, e164 = match
        start = run.start() + groups[i].start() - (lead if first else 0)
        yield PhoneMatch(start, run.start() + groups[j - 1].end(), e164)
        i = j


def e164_of(written: str, regions: tuple[str, ...] = PHONE_REGIONS) -> str | None:
    """The E.164 form of one phone number as written in any recognised form, or None."""
    matches = find_phones(written.strip(), regions)
    return matches[0].e164 if len(matches) == 1 else None


def replace_phones(text: str, replacement: Callable[[str, str], str],
                   regions: tuple[str, ...] = PHONE_REGIONS) -> str:
    """``text`` with each phone replaced by ``replacement(written, e164)``."""
    return replace_matches(text, find_phones(text, regions), replacement)


def replace_matches(text: str, matches: list[PhoneMatch], replacement: Callable[[str, str], str]) -> str:
    if not matches:
        return text
    out, last = [], 0
    for m in matches:
        out.append(text[last:m.start])
        out.append(replacement(text[m.start:m.end], m.e164))
        last = m.end
    out.append(text[last:])
    return "".join(out)


def international(written: str) -> bool:
    """Whether a found number was written with its country code (``+`` or ``00``), so its region is sure."""
    return written.lstrip("(").startswith(("+", "00"))
