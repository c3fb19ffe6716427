"""``X-Twilio-Signature`` as Twilio computes it (shared/twilio-voice.md section 2).

The HMAC itself is twilio-python's ``RequestValidator.compute_signature``: the target validates
with the same library (or a port of it), so we sign with exactly the string it will rebuild. What
this module decides is *which* URL and parameters Twilio signs:

- a form POST: the URL as requested (query string included) plus every body parameter, sorted;
- a GET: the URL with its query string, nothing appended (the data is already in the URL);
- a WebSocket upgrade: the ``wss://`` URL *without* its query string, the query parameters as
  the parameters (the rule of Twilio's own reference server, [TAC] in the sheet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, str] | Iterable[tuple[str, str]]


class _RepeatedParams:
    """Parameters with repeated keys, in the MultiDict shape ``RequestValidator.get_values`` reads."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in pairs:
            self._values.setdefault(key, []).append(value)

    def __iter__(self):
        return iter(self._values)

    def getall(self, key: str) -> list[str]:
        return self._values[key]


def _as_validator_params(params: Params | None) -> _RepeatedParams:
    if params is None:
        return _RepeatedParams(())
    pairs = params.items() if isinstance(params, Mapping) else params
    return _RepeatedParams((str(key), str(value)) for key, value in pairs)


def webhook_signature(url: str, params: Params | None, auth_token: str, method: str = "POST") -> str:
    """The signature Twilio sends with a webhook to ``url``.

    ``params`` are the form body parameters of a POST (a mapping, or pairs when a key repeats).
    For a GET they must already be in ``url`` and are not appended again, so pass none.
    """
    if method.upper() == "GET":
        if params:
            raise ValueError("a GET webhook carries its parameters in the URL; sign the URL with no params")
        params = None
    return RequestValidator(auth_token).compute_signature(url, _as_validator_params(params))


def websocket_signature(wss_url: str, auth_token: str) -> str:
    """The signature Twilio sends on the Media Streams WebSocket upgrade to ``wss_url``."""
    bare, query = websocket_signed_parts(wss_url)
    return RequestValidator(auth_token).compute_signature(bare, _as_validator_params(query))


def websocket_signed_parts(wss_url: str) -> tuple[str, list[tuple[str, str]]]:
    """The (URL, params) pair a server must hand ``RequestValidator.validate`` for an upgrade."""
    parts = urlsplit(wss_url)
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return bare, parse_qsl(parts.query, keep_blank_values=True)
