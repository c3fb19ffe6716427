"""Which parts of a text, or which fields of a record, are credentials: by shape and by name.

By shape: Twilio auth tokens (32 hex on their own), API key SIDs (``SK`` + 32 hex), OpenAI keys
(``sk-...``), ``Bearer``/``Basic`` credentials, and the in-process model's own stand-in token. By
name: the text value of any field named like a token, secret, password, signature or API key
(``max_output_tokens`` is a count, not a credential). Account SIDs (``AC...``) identify, they do
not authorise, so they stay.
"""

from __future__ import annotations

import re

from ..twilio.ids import REPLAY_AUTH_TOKEN

API_KEY_SID = re.compile(r"\bSK[0-9a-fA-F]{32}\b")
HEX_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32}(?![0-9A-Za-z])")
OPENAI_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}")
SCHEME_CREDENTIAL = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9+/=._\-]{8,}")
SECRET_KEY = re.compile(r"(?i)(token(?!s)|secret|passw(?:or)?d|authorization|signature|api[_-]?key|credential)")
"""Field names whose text value is a credential whatever it looks like."""
SECRET_KEY_WORDS = ("token", "secret", "passw", "authorization", "signature", "api_key", "api-key", "apikey",
                    "credential")
"""The same names as plain lower-case words, for a fast first look at a large text."""
SHAPE_PREFIXES = ("SK", "sk-", "Bearer", "Basic", REPLAY_AUTH_TOKEN)
"""What every shaped credential but a bare hex token starts with."""
REDACTED = "[redacted]"


def remove_secrets(text: str, redacted: str = REDACTED) -> str:
    """``text`` with every credential-shaped substring replaced by ``redacted``."""
    if len(text) < 8:
        return text
    if "SK" in text:
        text = API_KEY_SID.sub("SK" + redacted, text)
    if "sk-" in text:
        text = OPENAI_KEY.sub("sk-" + redacted, text)
    if "Bearer" in text or "Basic" in text:
        text = SCHEME_CREDENTIAL.sub(lambda m: f"{m.group(1)} {redacted}", text)
    text = HEX_TOKEN.sub(redacted, text)
    return text.replace(REPLAY_AUTH_TOKEN, redacted)


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(SECRET_KEY.search(key))
