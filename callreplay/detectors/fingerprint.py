"""Content fingerprints: which configured prompt text is inside a set of realtime instructions.

Instructions captured from a live server carry no provenance, and their labels lie (hazard H6: the
header says ``Call: INBOUND`` even when the body is the outbound script). The only honest evidence
is the content. A configured prompt reaches the wire through JSON-form extraction, placeholder
substitution, layering between system rules and a header/footer, and the wire sanitiser (H8). This
module undoes what can be undone and measures what survives:

- ``normalize`` first replays the wire sanitiser without its length cap
  (``sanitize_realtime_instructions(text, 0)``), so a configured text and its sent form converge;
  then it drops anything phone-, URL- or e-mail-like (any run of 7+ digits with separators, any
  token with ``@``, ``://``, ``www.`` or a common TLD) plus the ``[phone]``/``[email]``
  placeholders, because another sanitiser version may have matched those differently. Then NFKC,
  casefold, delete format characters and Hebrew points, and turn every non-letter/non-digit run into
  one space. Deleting (not spacing) points keeps ``בית־ספר`` equal to the sanitiser's ``ביתספר``.
- shingles are word n-grams, ``n = 4``; a text with fewer than 4 words uses ``n = its word count``
  (minimum 1), so a 2-word prompt still has one shingle. Each shingle is the first 8 bytes of
  ``blake2b`` over the UTF-8 n-gram, read big-endian: stable across processes and machines.
- ``match_sources`` measures each source at its own ``n``. Per source it tries every candidate
  text (``calls``, ``whatsapp``, raw; with and without the business name substituted) and keeps the
  best. From each candidate it removes shingles that the layering scaffolding can explain
  (``DEFAULT_SCAFFOLDING``, expanded with the business name, both direction labels, the names the
  builders fall back to, and every ``Business ID: N`` seen in the instructions) and shingles that
  another source also has. What is left and found in the instructions is the evidence.
- truncation: when the instructions' last shingle belongs to the candidate, the 8000-char cap cut
  inside that text; shingles after that point could not have survived and leave the denominator
  (``truncated_tail``). The last occurrence is used, which can only lower the containment.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from callreplay.pipeline import prompt_text as pt
from callreplay.pipeline.constants import FULL_PROMPT_MAX_CHARS, replace_placeholders
from callreplay.pipeline.sanitize import sanitize_realtime_instructions

__all__ = [
    "DEFAULT_N",
    "DEFAULT_SCAFFOLDING",
    "DEFAULT_THRESHOLD",
    "Attribution",
    "Fingerprint",
    "SourceMatch",
    "attribute",
    "candidate_texts",
    "containment",
    "fingerprint",
    "match_sources",
    "normalize",
]

DEFAULT_N = 4
DEFAULT_THRESHOLD = 0.6
_PREVIEW_CHARS = 60
_EXAMPLES = 3

DEFAULT_SCAFFOLDING: tuple[str, ...] = (
    pt.UNIVERSAL_SYSTEM_RULES,
    *(sentence.strip() for sentence in pt.DIRECTION_SENTENCES.values()),
    "APPOINTMENT SCHEDULING (STRICT, technical): Today is",
    "BUSINESS PROMPT (Business ID: {business_id}, Name: {business_name}, Call: {direction}):",
    "BUSINESS PROMPT (Business ID: {business_id}):",
    "CALL TYPE: {direction}. The customer called the business. Follow the business prompt for flow.",
    "CALL TYPE: {direction}. You are calling the customer. Follow the business prompt for flow.",
    "CALL TYPE: INBOUND. The customer called the business. Follow the business prompt for greeting and flow.",
    (
        'CALL TYPE: OUTBOUND from "{business_name}". If confused, briefly identify the business and continue'
        " per the outbound prompt."
    ),
    pt.FALLBACK_INBOUND_PROMPT_TEMPLATE,
    pt.FALLBACK_OUTBOUND_PROMPT_TEMPLATE,
    pt.default_hebrew_prompt("{business_name}"),
    "שלום, הגעתם ל{business_name}",
)
"""Text the builders put around or instead of a business prompt (spec §4.1-§4.3, H3).

Placeholders ``{business_name}``, ``{business_id}`` and ``{direction}`` are expanded by
``match_sources``; a source shingle found in any expansion is not evidence for that source.
"""

_FALLBACK_NAMES = ("Business", "העסק שלנו", "העסק")
_DIRECTION_LABELS = ("INBOUND", "OUTBOUND")
_HEADER_ID = re.compile(r"Business ID:\s*(\d+)", re.IGNORECASE)

_PLACEHOLDER = re.compile(r"\[(?:phone|email)\]", re.IGNORECASE)
_ADDRESS_HINT = re.compile(r"@|://|www\.|\.(?:com|net|org|il|io|co|biz|info)\b", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"\d(?:[\s().\-]{0,3}\d){6,}")
_INVISIBLE = re.compile("[\u0591-\u05c7\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_NOT_WORD = re.compile(r"[\W_]+")


def normalize(text: str | None) -> str:
    """Reduce text to lower-case words in any script, so configured and sent forms compare equal."""
    if not text:
        return ""
    text = sanitize_realtime_instructions(text, 0)
    text = unicodedata.normalize("NFKC", text)
    text = _PHONE_LIKE.sub(" ", _PLACEHOLDER.sub(" ", text))
    if _ADDRESS_HINT.search(text):
        text = " ".join(token for token in text.split() if not _ADDRESS_HINT.search(token))
    text = _INVISIBLE.sub("", text.casefold())
    return _NOT_WORD.sub(" ", text).strip()


def _shingle_hash(gram: str) -> int:
    """Stable 64-bit id of one n-gram; never Python's per-process salted ``hash``."""
    return int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big")


def _shingle_hashes(grams: list[str]) -> list[int]:
    """``_shingle_hash`` over many grams, inlined: this loop is most of the cost of a fingerprint."""
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    return [from_bytes(blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big") for gram in grams]


def _grams(words: list[str], n: int) -> list[str]:
    """Word n-grams in text order; empty when there are fewer than ``n`` words."""
    return list(map(" ".join, zip(*(words[i:] for i in range(n)), strict=False)))


def _effective_n(word_count: int, n: int) -> int:
    """The n-gram size for a text: ``n``, or the word count for texts shorter than ``n``."""
    return max(1, min(n, word_count)) if word_count else n


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The shingle set of one normalised text; ``n`` is the n-gram size actually used."""

    shingles: frozenset[int]
    n: int
    word_count: int
    preview: str


def fingerprint(text: str | None, n: int = DEFAULT_N, *, fallback: bool = True) -> Fingerprint:
    """Fingerprint ``text``; with ``fallback`` a text shorter than ``n`` words uses a smaller n."""
    if n < 1:
        raise ValueError(f"fingerprint: n must be at least 1, got {n}")
    normalized = normalize(text)
    words = normalized.split()
    size = _effective_n(len(words), n) if fallback else n
    shingles = frozenset(_shingle_hashes(_grams(words, size)))
    return Fingerprint(shingles, size, len(words), normalized[:_PREVIEW_CHARS])


def containment(fp_source: Fingerprint, fp_target: Fingerprint) -> float:
    """Share of the source's shingles found in the target (0.0 for an empty source)."""
    if fp_source.n != fp_target.n:
        raise ValueError(
            f"containment: source uses {fp_source.n}-grams but target uses {fp_target.n}-grams; "
            f"fingerprint the target with fingerprint(text, n={fp_source.n}, fallback=False)"
        )
    if not fp_source.shingles:
        return 0.0
    return len(fp_source.shingles & fp_target.shingles) / len(fp_source.shingles)


_substitute = replace_placeholders  # builder placeholder substitution (spec §4.1)


def _candidates(raw_setting: str | None, business_name: str) -> list[tuple[str, str]]:
    """(kind, text) pairs a configured field can put on the wire, most specific first."""
    if raw_setting is None or not raw_setting.strip():
        return []
    raw = raw_setting.strip()
    bases: list[tuple[str, str]] = []
    if raw.startswith("{"):
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            for key in ("calls", "whatsapp"):
                value = obj.get(key)
                if isinstance(value, str) and value.strip():
                    bases.append((key, value))
    bases.append(("raw", raw))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for kind, text in bases:
        named = _substitute(text, business_name)
        for variant_kind, variant in ((kind, named), (kind + "+unsubstituted", text)):
            if variant not in seen:
                seen.add(variant)
                out.append((variant_kind, variant))
    return out


def candidate_texts(raw_setting: str | None, business_name: str) -> list[str]:
    """Texts a configured prompt field can contribute: JSON values and raw, named and unnamed."""
    return [text for _, text in _candidates(raw_setting, business_name)]


@dataclass(frozen=True, slots=True)
class SourceMatch:
    """How much of one configured source the instructions contain, with the evidence.

    ``total_shingles`` is the denominator actually used: the winning candidate's distinct shingles
    minus ``removed_scaffolding``, ``removed_shared`` and ``truncated_tail``.
    """

    label: str
    containment: float
    matched_shingles: int
    total_shingles: int
    matched_examples: tuple[str, ...]
    present: bool
    candidate: str = ""
    n: int = DEFAULT_N
    removed_scaffolding: int = 0
    removed_shared: int = 0
    truncated_tail: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Attribution:
    """Which sources the instructions contain; ``verdict`` is ``matches:<label>``, ``mixed`` or ``none``."""

    verdict: str
    present: tuple[str, ...]
    matches: tuple[SourceMatch, ...]


def _expand_scaffolding(templates: Iterable[str], business_name: str, business_ids: Iterable[str]) -> set[str]:
    """Every concrete text the scaffolding templates can take for this business."""
    names = dict.fromkeys((business_name, *_FALLBACK_NAMES))
    ids = tuple(dict.fromkeys(business_ids)) or ("",)
    texts: set[str] = set()
    for template in templates:
        for name in names:
            for business_id in ids:
                for label in _DIRECTION_LABELS:
                    texts.add(
                        template.replace("{business_name}", name)
                        .replace("{business_id}", business_id)
                        .replace("{direction}", label)
                    )
    return texts


class _Shingler:
    """Per-call memo of word lists shingled at a given n; lives only inside one ``match_sources``."""

    def __init__(self) -> None:
        # Keys use id(): every word list is held by the caller for the whole call, so ids stay unique.
        self._sets: dict[tuple[int, int], frozenset[int]] = {}
        self._unions: dict[tuple[tuple[int, ...], int], frozenset[int]] = {}

    def set_of(self, words: list[str], n: int) -> frozenset[int]:
        key = (id(words), n)
        if key not in self._sets:
            self._sets[key] = frozenset(_shingle_hashes(_grams(words, n)))
        return self._sets[key]

    def union(self, word_lists: list[list[str]], n: int) -> frozenset[int]:
        key = (tuple(id(words) for words in word_lists), n)
        if key not in self._unions:
            out: set[int] = set()
            for words in word_lists:
                out |= self.set_of(words, n)
            self._unions[key] = frozenset(out)
        return self._unions[key]


def _measure(
    label: str,
    kind: str,
    words: list[str],
    *,
    target_words: list[str],
    target_capped: bool,
    scaffolding: list[list[str]],
    others: list[list[str]],
    shingler: _Shingler,
    threshold: float,
) -> SourceMatch:
    """Containment of one candidate text after removing what scaffolding or other sources explain."""
    n = _effective_n(len(words), DEFAULT_N)
    grams = _grams(words, n)
    hashes = _shingle_hashes(grams)
    distinct = dict.fromkeys(hashes)
    scaffold = shingler.union(scaffolding, n)
    shared = shingler.union(others, n)
    removed_scaffolding = sum(1 for h in distinct if h in scaffold)
    removed_shared = sum(1 for h in distinct if h not in scaffold and h in shared)
    kept = [h for h in distinct if h not in scaffold and h not in shared]
    target = shingler.set_of(target_words, n)

    truncated_tail = 0
    if target_capped and len(target_words) >= n:
        last = _shingle_hash(" ".join(target_words[-n:]))
        if last in kept:
            cut = len(hashes) - 1 - hashes[::-1].index(last)
            before_cut = set(hashes[: cut + 1])
            lost = {h for h in hashes[cut + 1 :] if h not in before_cut} & set(kept)
            kept = [h for h in kept if h not in lost]
            truncated_tail = len(lost)

    matched = [h for h in kept if h in target]
    total = len(kept)
    share = len(matched) / total if total else 0.0
    present = total >= 1 and share >= threshold
    text_of = dict(zip(hashes, grams, strict=True))
    examples = tuple(text_of[h] for h in matched[:_EXAMPLES])
    reason = (
        f"{'present' if present else 'absent'}: {len(matched)}/{total} {n}-gram shingles of {label}[{kind}] found "
        f"({share:.0%}, threshold {threshold:.0%}); removed {removed_scaffolding} scaffolding, "
        f"{removed_shared} shared with other sources, {truncated_tail} after the length cap"
    )
    return SourceMatch(
        label=label,
        containment=share,
        matched_shingles=len(matched),
        total_shingles=total,
        matched_examples=examples,
        present=present,
        candidate=kind,
        n=n,
        removed_scaffolding=removed_scaffolding,
        removed_shared=removed_shared,
        truncated_tail=truncated_tail,
        reason=reason,
    )


def match_sources(
    instructions: str,
    sources: Mapping[str, str | None],
    business_name: str,
    *,
    exclude: Iterable[str] = DEFAULT_SCAFFOLDING,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, SourceMatch]:
    """Measure every configured source against the instructions, in ``sources`` order."""
    target_words = normalize(instructions).split()
    target_capped = len(instructions) >= int(FULL_PROMPT_MAX_CHARS * 0.6)
    business_ids = _HEADER_ID.findall(instructions)
    scaffolding = [normalize(text).split() for text in _expand_scaffolding(exclude, business_name, business_ids)]
    candidates = {
        label: [(kind, normalize(text).split()) for kind, text in _candidates(raw, business_name)]
        for label, raw in sources.items()
    }
    shingler = _Shingler()
    results: dict[str, SourceMatch] = {}
    for label, own in candidates.items():
        if not own:
            results[label] = SourceMatch(label, 0.0, 0, 0, (), False, reason=f"absent: {label} is not configured")
            continue
        others = [words for other, cands in candidates.items() if other != label for _, words in cands]
        measured = [
            _measure(
                label,
                kind,
                words,
                target_words=target_words,
                target_capped=target_capped,
                scaffolding=scaffolding,
                others=others,
                shingler=shingler,
                threshold=threshold,
            )
            for kind, words in own
        ]
        results[label] = max(measured, key=lambda m: (m.containment, m.matched_shingles))
    return results


def attribute(
    instructions: str,
    sources: Mapping[str, str | None],
    business_name: str,
    *,
    exclude: Iterable[str] = DEFAULT_SCAFFOLDING,
    threshold: float = DEFAULT_THRESHOLD,
) -> Attribution:
    """Name the configured source(s) whose content the instructions carry."""
    matches = match_sources(instructions, sources, business_name, exclude=exclude, threshold=threshold)
    present = tuple(label for label, match in matches.items() if match.present)
    if not present:
        verdict = "none"
    elif len(present) == 1:
        verdict = f"matches:{present[0]}"
    else:
        verdict = "mixed"
    return Attribution(verdict, present, tuple(matches.values()))
