"""``build_sms``: the SMS service from settings (``compose``, the CLI, classic AGI)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from callcenter.settings import Settings
from callcenter.sms.service import LogTransport, RecordingSmsService, SmsTransport


def build_sms(settings: Settings, engine: Engine) -> RecordingSmsService:
    """Twilio when ``sms_provider = "twilio"``, else the development log transport."""
    transport: SmsTransport
    if settings.sms_provider == "twilio":
        from callcenter.sms.twilio_transport import TwilioTransport

        transport = TwilioTransport(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            api_base_url=settings.twilio_api_base_url,
        )
    else:
        transport = LogTransport()
    return RecordingSmsService(
        transport=transport, engine=engine, from_number=settings.twilio_from_number,
        max_attempts=settings.sms_max_attempts,
        retry_base_seconds=settings.sms_retry_base_seconds,
    )
