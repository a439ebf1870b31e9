"""``POST /sms/twilio/inbound``: Twilio's webhook. Thin: read (bounded), authenticate with
twilio's ``RequestValidator``, hand to ``inbound.handle_inbound``, answer TwiML.

Store first, answer fast: the message is stored and answered in one short transaction on
the store pool; when the store's lock is not had within ``webhook_store_timeout_seconds``
the answer is a 503 with ``Retry-After`` (nothing half-stored), never a 30 s 500."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from callcenter.db.engine import session_scope, short_lock_wait
from callcenter.deps import AppServices, Services
from callcenter.errors import DomainError, InvalidInput
from callcenter.intake.http_input import PayloadTooLarge, parse_form, read_limited
from callcenter.sms.inbound import InboundSms, handle_inbound

router = APIRouter(tags=["sms"])
INBOUND_PATH = "/sms/twilio/inbound"
MAX_BODY_BYTES = 32 * 1024  # a 1,600-character Persian SMS is ~10 KB url-encoded
MAX_SID_CHARS = 74  # the column holds 80 with ":reply"; Twilio's are 34 today
BUSY_RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)


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
    if len(params["MessageSid"]) > MAX_SID_CHARS:  # kept whole, never cut (ids collide)
        raise InvalidInput("MessageSid too long", limit=MAX_SID_CHARS)
    sms = InboundSms(message_sid=params["MessageSid"], from_phone=params["From"],
                     to_phone=params["To"], body=body)
    reply = await _store_and_answer(services, sms)
    return _twiml(reply) if reply is not None else _busy()


async def _store_and_answer(services: Services, sms: InboundSms) -> str | None:
    """Store the message and decide the reply on the store pool, waiting at most
    ``webhook_store_timeout_seconds`` for the store's lock; ``None`` when it is busy
    (nothing was committed: the 503 asks Twilio to send it again)."""
    settings = services.settings
    catalogue = services.sms_catalogue
    wait = settings.webhook_store_timeout_seconds

    def work() -> str:
        with session_scope(services.engine) as session, short_lock_wait(session, wait):
            reply = handle_inbound(session=session, sms=sms, catalogue=catalogue,
                                   duplicate_window_hours=settings.duplicate_window_hours).reply
            session.flush()  # the writes happen inside the short lock wait
            return reply

    try:
        return await asyncio.wait_for(services.pools.store.run(work), wait * 2)
    except (OperationalError, TimeoutError) as exc:
        log.warning("inbound SMS not stored, the store is busy (%s): answered 503",
                    type(exc).__name__)
        return None


def _busy() -> Response:
    return Response("store busy, retry", status_code=503, media_type="text/plain",
                    headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})


