"""Which lines of a large JSON Lines text (a trace) might hold a phone number or a credential.

A trace of a long call is megabytes of mostly numbers, and every line has a 7+ digit ``t_us``.
Running the exact finders on every line costs seconds, so this scan works on the UTF-8 bytes with
a translation table (every digit becomes ``9``, every separator ``-``) and cheap shape rules that
reject what can never be a phone (a bare 7-to-9-digit number, a 10-digit one starting with 1, ...).
It may name more lines than needed, never fewer: the caller runs the exact finders on those only.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .phones import MAX_DIGITS, MIN_NATIONAL_DIGITS
from .secrets import SECRET_KEY_WORDS, SHAPE_PREFIXES

_DIGIT_SHAPES = bytearray(b" " * 256)
for _byte in b"0123456789":
    _DIGIT_SHAPES[_byte] = ord("9")
for _byte in b" .-/()\xc2\xa0":  # U+00A0 is C2 A0 in UTF-8
    _DIGIT_SHAPES[_byte] = ord("-")
_HEX_SHAPES = bytearray(b" " * 256)
for _byte in b"0123456789abcdefABCDEF":
    _HEX_SHAPES[_byte] = ord("x")
_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT_RUN = re.compile(rb"9(?:-{0,3}9){6,}")
_HEX_32 = b"x" * 32


def _could_be_phone(raw: bytes, shape: bytes, before: int) -> bool:
    """The rules of :mod:`.phones`, loosened: False only for what it can never accept."""
    digits = shape.count(b"9")
    if before == ord("+") or b"-" in shape:
        return True
    if digits > MAX_DIGITS + 2:
        return False
    if raw[0] == ord("0"):
        return digits >= MIN_NATIONAL_DIGITS
    return digits >= 11 or (digits == 10 and raw[0] != ord("1"))


def _phone_spots(data: bytes) -> list[int]:
    shapes = data.translate(_DIGIT_SHAPES)
    return [m.start() for m in _DIGIT_RUN.finditer(shapes)
            if _could_be_phone(data[m.start():m.end()], m.group(0), data[m.start() - 1] if m.start() else 0)]


def _hex_spots(data: bytes) -> list[int]:
    """Runs of exactly 32 hex characters with no letter or digit on either side (a CallSid's
    ``CA`` + 32 hex is a run of 34; an ``MZ`` stream id has a letter before its 32)."""
    shapes = data.translate(_HEX_SHAPES)
    spots, at = [], shapes.find(_HEX_32)
    while at >= 0:
        end = at + 32
        while end < len(shapes) and shapes[end] == ord("x"):
            end += 1
        alone = (at == 0 or data[at - 1] not in _ALNUM) and (end == len(data) or data[end] not in _ALNUM)
        if end - at == 32 and alone:
            spots.append(at)
        at = shapes.find(_HEX_32, end)
    return spots


def _word_spots(data: bytes, words: tuple[str, ...]) -> list[int]:
    spots = []
    for word in words:
        needle = word.encode()
        at = data.find(needle)
        while at >= 0:
            spots.append(at)
            at = data.find(needle, at + 1)
    return spots


def lines_to_check(text: str) -> list[int]:
    """Indexes (0-based) of the lines of ``text`` that may hold something private, in order."""
    data = text.encode("utf-8", "surrogatepass")
    spots = _phone_spots(data) + _hex_spots(data) + _word_spots(data, SHAPE_PREFIXES)
    spots += _word_spots(data.lower(), SECRET_KEY_WORDS)
    if not spots:
        return []
    line_starts = [0] + [m.end() for m in re.finditer(rb"\n", data)]
    return sorted({bisect_right(line_starts, spot) - 1 for spot in spots})
