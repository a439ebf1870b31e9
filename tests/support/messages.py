"""Run the durable citizen messages' delivery in a test, over a transport at the
provider edge (the real ``MessageDelivery`` and ``SmsChannel``)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from callcenter.messages.delivery import DeliveryReport, MessageDelivery
from callcenter.sms.channel import SmsChannel
from callcenter.sms.service import LogTransport, SmsTransport


class CapturingTransport:
    """Keeps every (to, body) it was asked to send; always succeeds."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_once(self, *, to: str, body: str) -> str:
        self.sent.append((to, body))
        return f"SM{len(self.sent):032d}"


async def deliver_queued(engine: Engine, transport: SmsTransport | None = None
                         ) -> DeliveryReport:
    """One delivery round of every due SMS (the log transport unless one is given)."""
    delivery = MessageDelivery(engine=engine, channels={
        "sms": SmsChannel(transport=transport or LogTransport(), from_number="+98137")})
    return await delivery.deliver_due()
