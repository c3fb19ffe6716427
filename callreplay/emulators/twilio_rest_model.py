"""The REST emulator's resources (calls, recordings, streams), their JSON and their validation.

Kept apart from the HTTP server (``twilio_rest``) so the rules read as data and functions: each
check returns a ``RestError`` with Twilio's code, HTTP status and message, or None. Shapes and
codes are those of shared/twilio-voice.md section 6; where the sheet is silent the choice is ours
and docs/emulators-twilio.md says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import phonenumbers

from callreplay.twilio.ids import API_VERSION
from callreplay.twilio.voice_params import rfc2822, status_callback_events

MAX_INLINE_TWIML = 4000  # 32018
MAX_TIMEOUT_S = 600  # 21208
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
MAX_STREAM_PARAMETERS = 99
ENDED_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
NOT_ANSWERED_STATUSES = ("queued", "initiated", "ringing")
CALL_SUBRESOURCES = ("notifications", "recordings", "payments", "events", "siprec", "streams", "transcriptions",
                     "user_defined_message_subscriptions", "user_defined_messages")
# Create-call parameters with a closed set of values (the sheet's create parameters).
CALL_ENUMS: dict[str, tuple[str, ...]] = {
    "RecordingChannels": ("mono", "dual"),
    "RecordingTrack": ("inbound", "outbound", "both"),
    "Trim": ("trim-silence", "do-not-trim"),
    "MachineDetection": ("Enable", "DetectMessageEnd"),
    "Record": ("true", "false"),
}
RECORDING_ENUMS: dict[str, tuple[str, ...]] = {
    "RecordingChannels": ("mono", "dual"),
    "RecordingTrack": ("inbound", "outbound", "both"),
    "Trim": ("trim-silence", "do-not-trim"),
}
METHOD_PARAMS = ("Method", "FallbackMethod", "StatusCallbackMethod", "RecordingStatusCallbackMethod",
                 "AsyncAmdStatusCallbackMethod")
SEND_DIGITS_CHARS = set("0123456789ABCDabcd#*wW")

Form = Mapping[str, Sequence[str]]


class RestError(Exception):
    """A request Twilio would refuse: HTTP ``status``, Twilio ``code`` and the message it gives."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}", "status": self.status}


@dataclass
class RecordingResource:
    sid: str
    account_sid: str
    call_sid: str
    channels: int
    track: str
    status: str
    date_created: datetime
    date_updated: datetime
    start_time: datetime
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    duration_s: int | None = None
    source: str = "StartCallRecordingAPI"

    def to_json(self) -> dict:
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "call_sid": self.call_sid,
            "conference_sid": None, "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated), "start_time": rfc2822(self.start_time),
            "duration": None if self.duration_s is None else str(self.duration_s), "sid": self.sid,
            "price": None, "price_unit": "USD", "status": self.status, "channels": self.channels,
            "source": self.source, "error_code": 0, "encryption_details": None, "track": self.track,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.call_sid}/Recordings/{self.sid}.json",
        }


@dataclass
class StreamResource:
    sid: str
    account_sid: str
    call_sid: str
    url: str
    name: str | None
    track: str
    parameters: dict[str, str]
    status: str
    date_updated: datetime
    status_callback: str | None = None
    status_callback_method: str = "POST"

    def to_json(self) -> dict:
        return {"sid": self.sid, "account_sid": self.account_sid, "call_sid": self.call_sid, "name": self.name,
                "status": self.status, "date_updated": rfc2822(self.date_updated),
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.call_sid}/Streams/{self.sid}.json"}


@dataclass
class CallResource:
    """A call created through the API. The live driver reads it to place the call and moves its
    ``status`` with ``TwilioRestEmulator.set_status``."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str | None
    method: str
    twiml: str | None
    application_sid: str | None
    status_callback: str | None
    status_callback_method: str
    events: tuple[str, ...]
    status: str
    direction: str
    date_created: datetime
    date_updated: datetime
    params: dict[str, list[str]]
    fallback_url: str | None = None
    fallback_method: str = "POST"
    timeout_s: int = 60
    start_time: datetime | None = None
    end_time: datetime | None = None
    parent_call_sid: str | None = None
    history: list[tuple[str, datetime]] = field(default_factory=list)
    recordings: dict[str, RecordingResource] = field(default_factory=dict)
    streams: dict[str, StreamResource] = field(default_factory=dict)

    @property
    def duration_s(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None if self.end_time is None else 0
        return int((self.end_time - self.start_time).total_seconds())

    def to_json(self) -> dict:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        duration = self.duration_s
        return {
            "sid": self.sid, "date_created": rfc2822(self.date_created), "date_updated": rfc2822(self.date_updated),
            "parent_call_sid": self.parent_call_sid, "account_sid": self.account_sid,
            "to": self.to, "to_formatted": formatted_number(self.to),
            "from": self.from_, "from_formatted": formatted_number(self.from_), "phone_number_sid": None,
            "status": self.status,
            "start_time": rfc2822(self.start_time) if self.start_time else None,
            "end_time": rfc2822(self.end_time) if self.end_time else None,
            "duration": None if duration is None else str(duration), "price": None, "price_unit": "USD",
            "direction": self.direction, "answered_by": None, "api_version": API_VERSION, "forwarded_from": None,
            "group_sid": None, "caller_name": None, "queue_time": "0", "trunk_sid": None,
            "uri": base + ".json",
            "subresource_uris": {name: f"{base}/{_camel(name)}.json" for name in CALL_SUBRESOURCES},
        }


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def formatted_number(number: str) -> str:
    """``(415) 555-0100`` style national format for a phone number, the value unchanged otherwise."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


# -- checks --------------------------------------------------------------------------------------

def check_phone_number(value: str | None, param: str) -> RestError | None:
    """E.164 phone numbers must be *possible* numbers (phonenumbers' length rules). Validity against
    number plans is not required: fictional numbers (+1 555 01xx, test ranges) would fail it."""
    if value is None or not value.strip():
        code = 21201 if param == "To" else 21200
        return RestError(400, code, f"No '{param}' number is specified")
    if value.startswith(("client:", "sip:", "sim:")):
        return None
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not value.startswith("+") or not phonenumbers.is_possible_number(parsed):
        code = 21211 if param == "To" else 21210
        return RestError(400, code, f"Invalid '{param}' Phone Number: {value}")
    return None


def check_url(value: str | None, param: str) -> RestError | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return RestError(400, 21205, f"{param} is not a valid URL: {value}")
    return None


def check_methods(form: Form) -> RestError | None:
    for name in METHOD_PARAMS:
        value = first(form, name)
        if value is not None and value.upper() not in ("GET", "POST"):
            return RestError(400, 21209, f"{name} must be GET or POST, not {value!r}")
    return None


def check_enums(form: Form, enums: Mapping[str, tuple[str, ...]]) -> RestError | None:
    for name, allowed in enums.items():
        value = first(form, name)
        if value is not None and value not in allowed:
            return RestError(400, 21200, f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return None


def check_twiml(value: str | None) -> RestError | None:
    if value is not None and len(value) > MAX_INLINE_TWIML:
        return RestError(400, 32018, f"Twiml is {len(value)} characters; the limit is {MAX_INLINE_TWIML}")
    return None


def parse_timeout(value: str | None) -> int:
    if value is None:
        return 60
    try:
        timeout = int(value)
    except ValueError:
        timeout = -1
    if not 1 <= timeout <= MAX_TIMEOUT_S:
        raise RestError(400, 21208, f"Timeout must be an integer from 1 to {MAX_TIMEOUT_S}, not {value!r}")
    return timeout


def parse_events(form: Form) -> tuple[str, ...]:
    try:
        return status_callback_events(list(form.get("StatusCallbackEvent", ())))
    except ValueError as error:
        raise RestError(400, 21200, str(error)) from None


def check_create_call(form: Form) -> None:
    """Every create-call rule, the first broken one raised as a ``RestError``."""
    for error in (check_phone_number(first(form, "To"), "To"), check_phone_number(first(form, "From"), "From")):
        if error:
            raise error
    if not any(first(form, name) for name in ("Url", "Twiml", "ApplicationSid")):
        raise RestError(400, 21200, "Url, Twiml or ApplicationSid is required to create a call")
    for error in (check_url(first(form, "Url"), "Url"), check_url(first(form, "FallbackUrl"), "FallbackUrl"),
                  check_url(first(form, "StatusCallback"), "StatusCallback"), check_methods(form),
                  check_enums(form, CALL_ENUMS), check_twiml(first(form, "Twiml"))):
        if error:
            raise error
    digits = first(form, "SendDigits")
    if digits is not None and (len(digits) > 32 or not set(digits) <= SEND_DIGITS_CHARS):
        raise RestError(400, 21200, "SendDigits takes at most 32 of 0-9 A-D # * w W")


def stream_parameters(form: Form) -> dict[str, str]:
    """``ParameterN.Name`` / ``ParameterN.Value`` for N = 1..99, in N order."""
    parameters: dict[str, str] = {}
    for index in range(1, MAX_STREAM_PARAMETERS + 1):
        name = first(form, f"Parameter{index}.Name")
        if name:
            parameters[name] = first(form, f"Parameter{index}.Value") or ""
    for key in form:
        if key.startswith("Parameter") and key.endswith((".Name", ".Value")):
            index_text = key[len("Parameter"):].split(".", 1)[0]
            if not index_text.isdigit() or not 1 <= int(index_text) <= MAX_STREAM_PARAMETERS:
                raise RestError(400, 21200, f"{key}: stream parameters are Parameter1 to Parameter{MAX_STREAM_PARAMETERS}")
    return parameters


def page_of(items: list[dict], key: str, path: str, form: Form) -> dict:
    """Twilio's paging envelope over ``items`` (already in list order)."""
    try:
        page_size = int(first(form, "PageSize") or DEFAULT_PAGE_SIZE)
        page = int(first(form, "Page") or 0)
    except ValueError:
        raise RestError(400, 21200, "PageSize and Page must be integers") from None
    if not 1 <= page_size <= MAX_PAGE_SIZE or page < 0:
        raise RestError(400, 21200, f"PageSize must be 1 to {MAX_PAGE_SIZE} and Page >= 0")
    start = page * page_size
    chunk = items[start:start + page_size]

    def uri(number: int) -> str:
        return f"{path}?PageSize={page_size}&Page={number}"

    last_page = max(0, (len(items) - 1) // page_size)
    return {
        key: chunk, "first_page_uri": uri(0), "next_page_uri": uri(page + 1) if page < last_page else None,
        "previous_page_uri": uri(page - 1) if page > 0 else None, "page": page, "page_size": page_size,
        "start": start, "end": start + max(0, len(chunk) - 1), "uri": uri(page),
    }
