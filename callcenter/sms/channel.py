"""SMS as a channel of the durable citizen messages (``messages.delivery``): one send
over the transport (Twilio or log), its final outcome written to the SMS log."""

from __future__ import annotations

from sqlmodel import Session

from callcenter.messages.store import ClaimedMessage
from callcenter.sms.models import SmsDirection, SmsMessage, SmsStatus
from callcenter.sms.service import SmsTransport

SMS_CHANNEL = "sms"


class SmsChannel:
    """``MessageChannel`` over an ``SmsTransport``; retries belong to the delivery."""

    name = SMS_CHANNEL

    def __init__(self, *, transport: SmsTransport, from_number: str) -> None:
        self.transport = transport
        self.from_number = from_number

    def send_once(self, *, to: str, body: str) -> str:
        return self.transport.send_once(to=to, body=body)

    def record(self, *, session: Session, message: ClaimedMessage, sent: bool,
               provider_id: str | None, error: str | None) -> None:
        session.add(SmsMessage(
            direction=SmsDirection.OUTBOUND, to_phone=message.to[:20],
            from_phone=self.from_number[:20], body=message.body,
            status=SmsStatus.SENT if sent else SmsStatus.FAILED,
            attempts=message.attempts + 1, error=error, twilio_sid=provider_id,
            request_id=message.request_id))
