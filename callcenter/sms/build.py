"""``build_sms``: the SMS service from settings (``compose``, the CLI, classic AGI), and
``build_sms_channel``: SMS as a channel of the durable citizen messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from callcenter.pools import WorkerPools
from callcenter.settings import Settings
from callcenter.sms.channel import SmsChannel
from callcenter.sms.service import LogTransport, RecordingSmsService, SmsTransport


def build_transport(settings: Settings) -> SmsTransport:
    """Twilio when ``sms_provider = "twilio"``, else the development log transport."""
    if settings.sms_provider == "twilio":
        from callcenter.sms.twilio_transport import TwilioTransport

        return TwilioTransport(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            api_base_url=settings.twilio_api_base_url,
        )
    return LogTransport()


def build_sms(settings: Settings, engine: Engine, pools: WorkerPools | None = None
              ) -> RecordingSmsService:
    """The direct service (sends now, with retries): the follow-ups' survey SMS."""
    runners: dict[str, Any] = {} if pools is None else {
        "send_runner": pools.send.run, "store_runner": pools.store.run}
    return RecordingSmsService(
        transport=build_transport(settings), engine=engine,
        from_number=settings.twilio_from_number, max_attempts=settings.sms_max_attempts,
        retry_base_seconds=settings.sms_retry_base_seconds, **runners,
    )


def build_sms_channel(settings: Settings) -> SmsChannel:
    return SmsChannel(transport=build_transport(settings),
                      from_number=settings.twilio_from_number)
