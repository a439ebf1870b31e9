"""``POST /sms/twilio/inbound``: Twilio's webhook. Thin: read (bounded), authenticate with
twilio's ``RequestValidator``, hand to ``inbound.handle_inbound``, answer TwiML."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from callcenter.db.engine import session_scope
from callcenter.deps import AppServices
from callcenter.errors import DomainError, InvalidInput
from callcenter.intake.http_input import PayloadTooLarge, parse_form, read_limited
from callcenter.sms.inbound import InboundSms, handle_inbound

router = APIRouter(tags=["sms"])
INBOUND_PATH = "/sms/twilio/inbound"
MAX_BODY_BYTES = 32 * 1024  # a 1,600-character Persian SMS is ~10 KB url-encoded


class ForgedWebhook(DomainError):
    error_id = "bad-signature"
    status_code = 403


def _twiml(text: str) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), media_type="application/xml")


@router.post(INBOUND_PATH)
async def twilio_inbound(request: Request, services: AppServices) -> Response:
    settings = services.settings
    raw = await read_limited(request, MAX_BODY_BYTES)
    params = parse_form(raw)
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

    catalogue = services.sms_catalogue

    def work() -> str:
        with session_scope(services.engine) as session:
            return handle_inbound(session=session, sms=sms, catalogue=catalogue,
                                  duplicate_window_hours=settings.duplicate_window_hours).reply

    return _twiml(await asyncio.to_thread(work))


