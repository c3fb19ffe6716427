"""Twilio's HTTP side: signed voice webhooks answered with TwiML, status callbacks, and the app's own call API."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlsplit

import requests
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from examples.bridge.calls import TERMINAL_STATUSES, CallState
from examples.bridge.config import Business
from examples.bridge.prompts import INBOUND, OUTBOUND, build_instructions
from examples.bridge.state import BridgeState

log = logging.getLogger("examples.bridge")

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
WebhookHandler = Callable[[Request, dict[str, str]], Awaitable[Response]]  # a Twilio webhook given its signed form


def bridge_state(conn: HTTPConnection) -> BridgeState:
    state: BridgeState = conn.app.state.bridge
    return state


def public_base(conn: HTTPConnection) -> str:
    """Where Twilio reaches us: ``PUBLIC_URL``, else the scheme and host of this request."""
    return bridge_state(conn).settings.public_url or f"{conn.url.scheme}://{conn.url.netloc}"


def stream_host(conn: HTTPConnection) -> str:
    """The host of the ``wss://`` media URL: the public URL's host, else the Host Twilio used."""
    public = bridge_state(conn).settings.public_url
    return urlsplit(public).netloc if public else conn.headers.get("host", conn.url.netloc)


def callback_paths(state: BridgeState) -> tuple[str, str]:
    """The ``<Connect action>`` path and the call status-callback path handed to Twilio."""
    if state.settings.bug("unrouted-callback"):
        # BUG SWITCH unrouted-callback: paths that no route serves (Twilio gets 404s).
        return "/voice/stream-end", "/voice/call-status"
    return "/voice/stream-ended", "/voice/status"


async def signed_form(request: Request) -> dict[str, str] | None:
    """The form of a Twilio webhook, or None when ``X-Twilio-Signature`` does not match the URL Twilio called."""
    body = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    state = bridge_state(request)
    url = str(request.url)
    if state.settings.public_url:
        query = f"?{request.url.query}" if request.url.query else ""
        url = f"{state.settings.public_url}{request.url.path}{query}"
    if not state.validator.validate(url, form, request.headers.get("x-twilio-signature", "")):
        log.warning("rejected %s: bad X-Twilio-Signature for %s", request.url.path, url)
        return None
    return form


def twilio_webhook(handler: WebhookHandler) -> Callable[[Request], Awaitable[Response]]:
    """A route for Twilio: the handler gets the signed form; a bad signature is answered 403 without calling it."""
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        form = await signed_form(request)
        if form is None:
            return PlainTextResponse("invalid Twilio signature", status_code=403)
        return await handler(request, form)
    return endpoint


def signed_upgrade(websocket: WebSocket) -> bool:
    """Twilio signs the upgrade with URL ``wss://{host}/media-stream`` and the query parameters as params."""
    url = f"wss://{stream_host(websocket)}{websocket.url.path}"
    params = dict(websocket.query_params)
    validator = bridge_state(websocket).validator
    return bool(validator.validate(url, params, websocket.headers.get("x-twilio-signature", "")))


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), media_type="text/xml")


def not_in_service() -> Response:
    response = VoiceResponse()
    response.say("Sorry, this number is not in service. Goodbye.")
    response.hangup()
    return twiml(response)


def answer_call(request: Request, business: Business, direction: str, form: dict[str, str]) -> Response:
    """Remember the call and connect it to the media socket with its business and direction as parameters."""
    state = bridge_state(request)
    call_sid = form.get("CallSid", "")
    instructions = build_instructions(business, direction, state.settings)
    call = CallState(call_sid, business.id, direction, instructions)
    call.record_status(form.get("CallStatus", "in-progress"))
    call.call_log_business = business.id
    if direction == INBOUND:
        call.lead_business = business.id  # every caller becomes a lead of the business they called
    if state.settings.bug("foreign-tenant"):
        # BUG SWITCH foreign-tenant: the call log and the lead go to the default (first) business of the file.
        call.call_log_business = state.settings.businesses[0].id
        call.lead_business = state.settings.businesses[0].id if direction == INBOUND else None
    state.calls.put(call)
    log.info("call %s: business %s, %s, %d chars of instructions", call_sid, business.id, direction,
             len(instructions))
    action_path, _ = callback_paths(state)
    response = VoiceResponse()
    connect = response.connect(action=f"{public_base(request)}{action_path}")
    stream = connect.stream(url=f"wss://{stream_host(request)}/media-stream")
    stream.parameter(name="business_id", value=str(business.id))
    stream.parameter(name="direction", value=direction)
    stream.parameter(name="call_sid", value=call_sid)
    return twiml(response)


@twilio_webhook
async def incoming_call(request: Request, form: dict[str, str]) -> Response:
    """Twilio's inbound voice webhook: the business is the one whose number was called."""
    business = bridge_state(request).settings.business_for_number(form.get("To", ""))
    if business is None:
        log.warning("inbound call %s to unknown number %s", form.get("CallSid"), form.get("To"))
        return not_in_service()
    return answer_call(request, business, INBOUND, form)


@twilio_webhook
async def outbound_call(request: Request, form: dict[str, str]) -> Response:
    """The ``Url`` of calls created by :func:`create_call`: the business comes from the query, else ``From``."""
    settings = bridge_state(request).settings
    raw_id = request.query_params.get("business_id", "")
    business = settings.business(int(raw_id)) if raw_id.isdigit() else settings.business_for_number(
        form.get("From", ""))
    if business is None:
        log.warning("outbound call %s for unknown business %r", form.get("CallSid"), raw_id or form.get("From"))
        return not_in_service()
    direction = OUTBOUND  # this route serves only the calls we placed, whatever Twilio's Direction spelling
    if settings.bug("raw-direction"):
        # BUG SWITCH raw-direction: Twilio's "outbound-api" is stored as is, and the prompt builder reads
        # anything but "outbound" as inbound.
        direction = form.get("Direction", "outbound-api")
    return answer_call(request, business, direction, form)


@twilio_webhook
async def call_status(request: Request, form: dict[str, str]) -> Response:
    """Twilio's call status callback: record the status (a final one is never undone by a late earlier one)."""
    state = bridge_state(request)
    call = state.calls.get(form.get("CallSid", ""))
    status = form.get("CallStatus", "")
    if call is None:
        log.warning("status %s for unknown call %s", status, form.get("CallSid"))
    elif status in TERMINAL_STATUSES and state.settings.bug("lost-final-status"):
        # BUG SWITCH lost-final-status: the final callback is dropped, so the record stays in progress.
        log.info("call %s: ignoring status %s", call.call_sid, status)
    else:
        call.record_status(status)
    return Response(status_code=204)


async def call_record(request: Request) -> Response:
    """The app's own read-only state endpoint: what is stored for a call (404 if nothing)."""
    call = bridge_state(request).calls.get(request.path_params["call_sid"])
    if call is None:
        return JSONResponse({"error": "no such call"}, status_code=404)
    return JSONResponse(call.as_json())


@twilio_webhook
async def stream_ended(request: Request, form: dict[str, str]) -> Response:
    """The ``<Connect action>``: the media socket closed, so the call ends."""
    response = VoiceResponse()
    response.hangup()
    return twiml(response)


async def create_call(request: Request) -> Response:
    """The app's own API: ``{"business_id": 7, "to": "+972..."}`` places an outbound call through Twilio."""
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, status_code=400)
    if not isinstance(body, dict) or not isinstance(body.get("business_id"), int) or not isinstance(
            body.get("to"), str) or not body["to"]:
        return JSONResponse({"error": 'expected {"business_id": <int>, "to": "<E.164 number>"}'}, status_code=400)
    state = bridge_state(request)
    business = state.settings.business(body["business_id"])
    if business is None or not business.phone:
        return JSONResponse({"error": f"no business {body['business_id']} with a phone number"}, status_code=404)
    base = public_base(request)
    _, status_path = callback_paths(state)
    try:
        call = await run_in_threadpool(
            state.twilio.calls.create, to=body["to"], from_=business.phone,
            url=f"{base}/voice/outbound?business_id={business.id}", status_callback=f"{base}{status_path}",
            status_callback_event=STATUS_EVENTS)
    except TwilioRestException as exc:
        return JSONResponse({"error": f"Twilio refused the call: {exc.msg}"}, status_code=502)
    except requests.RequestException as exc:
        return JSONResponse({"error": f"Twilio unreachable: {exc}"}, status_code=502)
    state.calls.put(CallState(str(call.sid), business.id, OUTBOUND, "", status=str(call.status or "queued")))
    return JSONResponse({"call_sid": call.sid}, status_code=201)


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")
