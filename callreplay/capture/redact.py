"""Privacy on by default: phone numbers become stable pseudonyms, secrets disappear.

Why pseudonyms and not blanks: tenant routing is by the ``To`` number, and calls from the same
caller must still look like the same caller, so one :class:`Redactor` maps the same subscriber to
the same pseudonym for a whole capture set (a recording session, or the files of one import).
Pseudonyms are ``+1555`` followed by seven digits counting first appearances: valid-looking E.164,
outside any assigned North American area code, and recognised on a second pass so redacting twice
changes nothing. National forms (``050-123-4567``, ``(415) 523-8886``) are normalised to E.164
first, so a number's local and international forms share one pseudonym.

Secrets are removed, not pseudonymised: ``Authorization`` and ``X-Twilio-Signature`` headers,
API key SIDs (``SK`` + 32 hex), Twilio auth tokens (32 hex on their own), OpenAI keys, ``Bearer``
credentials and values of fields named like a token, secret, password or signature. Account SIDs
(``AC...``) stay: they identify, not authorise.
``keep`` names categories to leave alone: ``phones``, ``tokens``, ``signatures``.

Linking a capture to real settings: the proxy stores its map as ``.callreplay-pseudonyms.json``
in the capture folder, keyed by an HMAC of the number under a random per-folder salt (never the
number itself). ``callreplay import capture`` loads it, so a real phone in ``--businesses`` gets the
pseudonym the capture already uses. Anyone holding the folder can still test a *guessed* number
against the table, so do not hand the table out with the captures; scenarios never contain it.

What counts as a phone number or a credential is decided in one place for capture, import and
reports alike: :mod:`callreplay.redact` (the ``phonenumbers`` library, regions from
``CALLREPLAY_PHONE_REGIONS``). This module only chooses what replaces them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..privacy.phones import (
    PHONE_REGIONS,
    e164_of,
    find_phones,
    international,
    region_of,
    replace_matches,
    with_first,
)
from ..privacy.secrets import is_secret_key, remove_secrets

KEEP_CHOICES = ("phones", "tokens", "signatures")
PSEUDONYM_PREFIX = "+1555"
_PSEUDONYM = re.compile(r"^\+1555\d{7}$")
SIGNATURE_HEADERS = ("x-twilio-signature",)
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
REDACTED = "[REDACTED]"
TABLE_NAME = ".callreplay-pseudonyms.json"


def parse_keep(text: str | None) -> frozenset[str]:
    """``phones,tokens`` -> a set; ValueError lists the valid names."""
    names = frozenset(p.strip() for p in (text or "").split(",") if p.strip())
    unknown = sorted(names - set(KEEP_CHOICES))
    if unknown:
        raise ValueError(f"unknown --keep value {', '.join(unknown)!s} (expected a comma list of: "
                         f"{', '.join(KEEP_CHOICES)})")
    return names


def normalise_phone(number: str, regions: tuple[str, ...] = PHONE_REGIONS) -> str:
    """The E.164 form of a phone as written (``050-123-4567`` in ``IL`` -> ``+972501234567``); text that
    is not one phone number keeps its digits behind a ``+``, so it still has one stable pseudonym."""
    e164 = e164_of(number, regions)
    if e164 is not None:
        return e164
    return "+" + re.sub(r"\D", "", number)


class Redactor:
    """One pseudonym map and one keep-set; apply it to everything of one capture set."""

    def __init__(self, keep: frozenset[str] | set[str] = frozenset(), *, salt: bytes = b"",
                 table: dict[str, str] | None = None) -> None:
        self.keep = frozenset(keep)
        self.salt = salt
        self.pseudonyms: dict[str, str] = dict(table or {})  # HMAC(number) -> pseudonym
        self.regions: tuple[str, ...] = PHONE_REGIONS  # the regions of numbers seen in full come first

    def _digest(self, number: str) -> str:
        return hmac.new(self.salt, number.encode(), hashlib.sha256).hexdigest()[:32]

    # -- the persisted table ---------------------------------------------------------------------------
    @classmethod
    def for_folder(cls, folder: Path, keep: frozenset[str] = frozenset(), *, create: bool) -> Redactor:
        """The redactor of a capture folder: its saved table if there is one, else a fresh salt."""
        path = Path(folder) / TABLE_NAME
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(keep, salt=bytes.fromhex(data["salt"]), table=data["pseudonyms"])
        return cls(keep, salt=os.urandom(16) if create else b"")

    def save(self, folder: Path) -> None:
        if not self.salt:
            return
        data = {"salt": self.salt.hex(), "pseudonyms": dict(sorted(self.pseudonyms.items(), key=lambda kv: kv[1]))}
        path = Path(folder) / TABLE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)

    @property
    def phones_on(self) -> bool:
        return "phones" not in self.keep

    @property
    def tokens_on(self) -> bool:
        return "tokens" not in self.keep

    # -- phones -------------------------------------------------------------------------------------
    def pseudonym(self, number: str) -> str:
        """The stable pseudonym of one phone number (any form); pseudonyms map to themselves."""
        if _PSEUDONYM.match(number):
            return number
        return self._pseudonym_of(normalise_phone(number, self.regions))

    def _pseudonym_of(self, e164: str) -> str:
        if _PSEUDONYM.match(e164):
            return e164
        digest = self._digest(e164)
        if digest not in self.pseudonyms:
            self.pseudonyms[digest] = f"{PSEUDONYM_PREFIX}{len(self.pseudonyms) + 1:07d}"
        return self.pseudonyms[digest]

    def phones(self, text: str) -> str:
        if not self.phones_on or not text:
            return text
        matches = find_phones(text, self.regions)
        if self._learn(text[m.start:m.end] for m in matches if international(text[m.start:m.end])):
            matches = find_phones(text, self.regions)
        return replace_matches(text, matches, lambda _written, e164: self._pseudonym_of(e164))

    def _learn(self, written_numbers: Iterable[str]) -> bool:
        """Put the region of each number written with its country code first; True if the order changed."""
        before = self.regions
        for written in written_numbers:
            region = region_of(normalise_phone(written, self.regions))
            if region and self.regions[0] != region and not _PSEUDONYM.match(normalise_phone(written)):
                self.regions = with_first(self.regions, region)
        return self.regions != before

    # -- secrets ------------------------------------------------------------------------------------
    def secrets(self, text: str) -> str:
        if not self.tokens_on or not text:
            return text
        return remove_secrets(text, REDACTED)

    def text(self, text: str) -> str:
        """Free text (a log line, a TwiML body, a form value): phones and secrets."""
        return self.secrets(self.phones(text))

    def value(self, obj: Any, key: str = "") -> Any:
        """A JSON-like structure, recursively; a secret-named key loses its whole value."""
        if isinstance(obj, dict):
            return {k: self.value(v, str(k)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, key) for v in obj]
        if isinstance(obj, str):
            if self.tokens_on and is_secret_key(key) and obj:
                return REDACTED
            return self.text(obj)
        return obj

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, value in headers.items():
            low = name.lower()
            if low in SIGNATURE_HEADERS and "signatures" not in self.keep:
                continue
            if low in SECRET_HEADERS and self.tokens_on:
                continue
            out[name] = self.text(value)
        return out

    def message(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A parsed Media Streams message with every field redacted but a ``media`` payload (audio,
        not text); returned unchanged (the same object) when nothing in it is private."""
        media = obj.get("media")
        if obj.get("event") == "media" and isinstance(media, dict) and "payload" in media:
            rest = {**obj, "media": {k: v for k, v in media.items() if k != "payload"}}
            red = self.value(rest)
            if red == rest:
                return obj
            red["media"]["payload"] = media["payload"]
            return red
        red = self.value(obj)
        return obj if red == obj else red

    def ws_text(self, text: str) -> str:
        """A Media Streams message as sent: unchanged messages stay byte-identical, changed ones are
        re-serialised compactly."""
        try:
            obj = json.loads(text)
        except ValueError:
            return self.text(text)
        if not isinstance(obj, dict):
            return self.text(text)
        red = self.message(obj)
        return text if red is obj else json.dumps(red, ensure_ascii=False, separators=(",", ":"))
