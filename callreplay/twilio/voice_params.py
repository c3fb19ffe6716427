"""The form parameters Twilio sends with each kind of voice request (shared/twilio-voice.md 1 and 3).

Pure functions: the same inputs give the same parameters, byte for byte, and time is an input
(a ``datetime`` in UTC), never read from the wall clock. Values are strings, as on the wire.
A scenario's own parameters win over the standard ones, so a recorded call replays as recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

from .ids import ACCOUNT_SID, API_VERSION

CALL_STATUSES = ("queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer",
                 "canceled")
DIRECTIONS = ("inbound", "outbound-api", "outbound-dial", "trunking-originating", "trunking-terminating")
STATUS_CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")
STREAM_EVENTS = ("stream-started", "stream-stopped", "stream-error")

# Geographic lookups of the numbers: sent "if available", empty strings when Twilio has none.
GEO_FIELDS = tuple(f"{party}{field}" for party in ("From", "To", "Caller", "Called")
                   for field in ("City", "State", "Zip", "Country"))


def rfc2822(when: datetime) -> str:
    """``Mon, 16 Aug 2010 03:45:01 +0000``: the date format of Twilio's callbacks and REST JSON."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return format_datetime(when.astimezone(UTC))


def _require_one_of(parameter: str, value: str, allowed: tuple[str, ...]) -> None:
    """Twilio sends only its documented values; a wrong one here is a bug in the caller, said plainly."""
    if value not in allowed:
        raise ValueError(f"{parameter} {value!r} is not one of {', '.join(allowed)}")


def voice_webhook_params(call_sid: str, from_: str, to: str, direction: str, call_status: str,
                         extra: Mapping[str, str] | None = None, account_sid: str = ACCOUNT_SID) -> dict[str, str]:
    """Parameters of every call webhook: the incoming-call request, an outbound ``Url`` fetch, an
    ``action`` or ``<Redirect>`` fetch. ``extra`` (the scenario's parameters) wins on conflicts."""
    _require_one_of("Direction", direction, DIRECTIONS)
    _require_one_of("CallStatus", call_status, CALL_STATUSES)
    params = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "CallStatus": call_status,
        "Called": to,
        "Caller": from_,
        "Direction": direction,
        "From": from_,
        "To": to,
    }
    params.update({name: "" for name in GEO_FIELDS})
    if extra:
        params.update({str(key): str(value) for key, value in extra.items()})
    return dict(sorted(params.items()))


def status_callback_events(requested: list[str] | None) -> tuple[str, ...]:
    """The call progress events Twilio will report: those requested, else only ``completed``.

    Accepts repeated values and space-separated ones; an unknown event is a ``ValueError``."""
    names: list[str] = []
    for value in requested or ():
        names.extend(value.split())
    if not names:
        return ("completed",)
    for name in names:
        _require_one_of("StatusCallbackEvent", name, STATUS_CALLBACK_EVENTS)
    return tuple(event for event in STATUS_CALLBACK_EVENTS if event in names)


def call_status_for_event(event: str, final_status: str = "completed") -> str:
    """The ``CallStatus`` a progress event reports: ``answered`` is ``in-progress``, ``completed``
    is the call's final status."""
    mapping = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}
    if event == "completed":
        return final_status
    _require_one_of("StatusCallbackEvent", event, STATUS_CALLBACK_EVENTS)
    return mapping[event]


def call_status_callback_params(base: Mapping[str, str], call_status: str, sequence_number: int,
                                timestamp: datetime, call_duration_s: int | None = None) -> dict[str, str]:
    """A call status callback: the call's standard parameters (``base``) with its status now, plus
    ``Timestamp`` (RFC 2822), ``CallbackSource``, ``SequenceNumber`` (0 for the first callback of
    the call) and, once the call has completed, ``CallDuration`` in whole seconds."""
    if sequence_number < 0:
        raise ValueError("SequenceNumber starts at 0")
    params = dict(base)
    params.update({
        "CallStatus": call_status,
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence_number),
        "Timestamp": rfc2822(timestamp),
    })
    if call_duration_s is not None:
        params["CallDuration"] = str(max(0, int(call_duration_s)))
    return dict(sorted(params.items()))


def stream_status_callback_params(call_sid: str, stream_sid: str, stream_name: str | None, event: str,
                                  timestamp: datetime, error: str | None = None,
                                  account_sid: str = ACCOUNT_SID) -> dict[str, str]:
    """A ``<Stream statusCallback>`` request. ``StreamName`` is the ``name`` attribute, or the
    stream SID when it has none (unverified default, see the sheet); ``StreamError`` only on
    ``stream-error``."""
    _require_one_of("StreamEvent", event, STREAM_EVENTS)
    params = {
        "AccountSid": account_sid,
        "CallSid": call_sid,
        "StreamSid": stream_sid,
        "StreamName": stream_name or stream_sid,
        "StreamEvent": event,
        "Timestamp": rfc2822(timestamp),
    }
    if event == "stream-error":
        params["StreamError"] = error or "Stream error"
    return dict(sorted(params.items()))


def connect_action_params(base: Mapping[str, str], call_status: str = "in-progress") -> dict[str, str]:
    """The ``<Connect action>`` request when a connected stream ends: the standard parameters with
    the call's status now (no Stream-specific parameters are documented)."""
    params = dict(base)
    params["CallStatus"] = call_status
    return dict(sorted(params.items()))
