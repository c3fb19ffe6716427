"""What one running bridge holds: its settings, the call store, the signature validator and the Twilio client."""

from __future__ import annotations

from dataclasses import dataclass, field

from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection

from examples.bridge.calls import CallStore
from examples.bridge.config import Settings

REST_TIMEOUT_S = 10.0


@dataclass
class BridgeState:
    """Shared by the routes of one app; nothing is module-global, so two apps in one process share nothing."""

    settings: Settings
    calls: CallStore
    validator: RequestValidator
    twilio: Client
    # Realtime sockets the ``no-session-close`` switch left open; closed only when the app shuts down.
    leaked_sessions: list[ClientConnection] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings) -> BridgeState:
        client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                        http_client=TwilioHttpClient(pool_connections=False, timeout=REST_TIMEOUT_S))
        if settings.twilio_api_base:
            # An edge or region (also TWILIO_EDGE / TWILIO_REGION) would rewrite the host into *.twilio.com.
            client.edge = client.region = None
            client.api.base_url = settings.twilio_api_base.rstrip("/")
        return cls(settings=settings, calls=CallStore(), validator=RequestValidator(settings.twilio_auth_token),
                   twilio=client)
