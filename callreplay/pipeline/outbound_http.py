"""Outbound HTTP of the modelled pipeline: real ``requests`` calls answered by ``responses``.

The pipeline talks to Twilio's REST API through the ``twilio`` package (recordings.create when a
call starts, calls.update(status=completed) when the hard limit ends one). During a replay a
``responses.RequestsMock`` answers every request locally and each one becomes an ``http.request``
trace event; nothing leaves the machine, and an unexpected URL gets a 404 that is recorded too.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import parse_qsl

import responses

from ..twilio.ids import ACCOUNT_SID
from ..twilio.ids import REPLAY_AUTH_TOKEN as AUTH_TOKEN
from .context import PipelineContext

_TWILIO = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(?P<account>\w+)/Calls/(?P<call>\w+)"
                     r"(?P<rest>/Recordings)?\.json")
_ANY = re.compile(r".*")


def _sid(prefix: str, seed: str) -> str:
    return prefix + hashlib.md5(seed.encode()).hexdigest()


class OutboundHttp:
    """A per-replay ``responses`` mock plus a Twilio client bound to it."""

    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for method in (responses.GET, responses.POST):
            self.mock.add_callback(method, _TWILIO, callback=self._twilio)
            self.mock.add_callback(method, _ANY, callback=self._unknown)
        self._client = None
        self._actor: str | None = None

    def __enter__(self) -> OutboundHttp:
        self.mock.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mock.stop()
        self.mock.reset()

    def twilio(self, actor: str | None):
        """The ``twilio`` REST client; ``actor`` is the call the request is made for (for the trace)."""
        if self._client is None:
            from twilio.rest import Client

            self._client = Client(ACCOUNT_SID, AUTH_TOKEN)
        self._actor = actor
        return self._client

    def _record(self, request, status: int, note: str) -> None:
        body = request.body or ""
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        form = dict(parse_qsl(body)) if body else {}
        self.ctx.emit(self._actor, "http", "http.request", method=request.method, url=request.url.split("?")[0],
                      form=form, status=status, note=note)

    def _twilio(self, request):
        match = _TWILIO.match(request.url)
        call = match.group("call")
        if match.group("rest"):
            if request.method == "POST":
                sid = _sid("RE", call)
                self._record(request, 201, "recording started")
                return 201, {}, json.dumps({"sid": sid, "call_sid": call, "status": "in-progress",
                                            "account_sid": match.group("account")})
            self._record(request, 200, "recordings listed")
            return 200, {}, json.dumps({"recordings": [], "first_page_uri": None, "next_page_uri": None,
                                        "page": 0, "page_size": 5})
        self._record(request, 200, "call updated")
        return 200, {}, json.dumps({"sid": call, "status": "completed", "account_sid": match.group("account")})

    def _unknown(self, request):
        self._record(request, 404, "no such endpoint in the replay")
        return 404, {}, json.dumps({"message": "not modelled"})
