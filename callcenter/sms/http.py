"""``POST /sms/twilio/inbound``: Twilio's webhook. Thin: read (bounded), authenticate with
twilio's ``RequestValidator``, hand to ``inbound.handle_inbound``, answer TwiML."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from callcenter.db.engine import session_scope
from callcenter.errors import DomainError, InvalidInput
from callcenter.sms.inbound import InboundSms, handle_inbound
from callcenter.sms.messages import SmsCatalogue, load_catalogue

router = APIRouter(tags=["sms"])
INBOUND_PATH = "/sms/twilio/inbound"
MAX_BODY_BYTES = 32 * 1024  # a 1,600-character Persian SMS is ~10 KB url-encoded


class PayloadTooLarge(DomainError):
    error_id = "payload-too-large"
    status_code = 413


class ForgedWebhook(DomainError):
    error_id = "bad-signature"
    status_code = 403


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refusing (413) past ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("request body too large", limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("request body too large", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def catalogue_of(request: Request) -> SmsCatalogue:
    """The app's SMS catalogue, read on first use and kept on the container."""
    extras = request.app.state.container.extras
    if "sms.catalogue" not in extras:
        extras["sms.catalogue"] = load_catalogue()
    catalogue: SmsCatalogue = extras["sms.catalogue"]
    return catalogue


def _twiml(text: str) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), media_type="application/xml")


@router.post(INBOUND_PATH)
async def twilio_inbound(request: Request) -> Response:
    container = request.app.state.container
    settings = container.settings
    raw = await read_limited(request, MAX_BODY_BYTES)
    try:
        params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                                strict_parsing=bool(raw)))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("body is not form-encoded UTF-8") from None
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    url = settings.public_base_url.rstrip("/") + INBOUND_PATH
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not validator.validate(url, params, signature):
        raise ForgedWebhook("X-Twilio-Signature missing or wrong")
    missing = [k for k in ("MessageSid", "From", "To") if not params.get(k)]
    if missing:
        raise InvalidInput("Twilio fields missing", missing=missing)
    body = params.get("Body", "")
    if len(body) > settings.sms_max_inbound_chars:
        raise PayloadTooLarge("SMS longer than allowed",
                              limit=settings.sms_max_inbound_chars, length=len(body))
    sms = InboundSms(message_sid=params["MessageSid"][:60], from_phone=params["From"],
                     to_phone=params["To"], body=body)

    catalogue = catalogue_of(request)

    def work() -> str:
        with session_scope(container.engine) as session:
            return handle_inbound(session=session, sms=sms, catalogue=catalogue,
                                  duplicate_window_hours=settings.duplicate_window_hours).reply

    return _twiml(await asyncio.to_thread(work))


