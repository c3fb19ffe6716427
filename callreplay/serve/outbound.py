"""The model's outbound REST calls, made for real against the Twilio API the server is pointed at.

In-process the ``twilio`` client's requests are answered by ``responses``; served, they go to
``TWILIO_API_BASE`` (live mode's REST emulator) and each one is still an ``http.request`` event of
the model's own trace.
"""

from __future__ import annotations

from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ..live.guard import HostGuard
from ..pipeline.context import PipelineContext
from ..twilio.ids import ACCOUNT_SID


class _RecordingHttpClient(TwilioHttpClient):
    def __init__(self, outbound: LiveOutboundHttp) -> None:
        super().__init__(timeout=5)
        self.outbound = outbound

    def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: float | None = None, allow_redirects: bool = False) -> Response:
        if not self.outbound.allowed(url):  # never the real Twilio: only the API base the server was given
            self.outbound.ctx.emit(self.outbound.actor, "http", "http.request", method=method, url=url.split("?")[0],
                                   form=dict(data or {}), status=None, note="refused: not the configured API base")
            return Response(503, '{"code": 20500, "message": "no Twilio API configured (TWILIO_API_BASE)"}')
        response = super().request(method, url, params, data, headers, auth, timeout or 5, allow_redirects)
        self.outbound.ctx.emit(self.outbound.actor, "http", "http.request", method=method, url=url.split("?")[0],
                               form=dict(data or {}), status=response.status_code, note="live")
        return response


class LiveOutboundHttp:
    """Stands where the replay's ``OutboundHttp`` stands: ``.twilio(actor)`` returns the REST client."""

    def __init__(self, ctx: PipelineContext, api_base: str | None, auth_token: str,
                 account_sid: str = ACCOUNT_SID) -> None:
        self.ctx = ctx
        self.actor: str | None = None
        self.api_base = api_base.rstrip("/") if api_base else None
        self._client = Client(account_sid, auth_token, http_client=_RecordingHttpClient(self))
        if self.api_base:
            self._client.api.base_url = self.api_base

    def allowed(self, url: str) -> bool:
        base = self.api_base
        return base is not None and url.startswith(base + "/") and HostGuard("").allowed(url)

    def twilio(self, actor: str | None) -> Client:
        self.actor = actor
        return self._client
