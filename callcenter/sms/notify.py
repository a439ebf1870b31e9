"""Citizen SMS as durable messages: ``queue_sms`` writes the row inside the caller's
transaction (``messages.writer``); the delivery part sends it after the commit, with
retries and backoff. ``SmsSender`` is what the routes hold: the direct SMS service (the
follow-ups' survey SMS, which has its own store-backed task) and ``wake`` for the
delivery loop, so a queued message leaves without waiting for the next round."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from callcenter.messages.models import CitizenMessage
from callcenter.messages.writer import queue_message
from callcenter.sms.channel import SMS_CHANNEL
from callcenter.sms.service import SmsService


def queue_sms(*, session: Session, to: str, body: str, kind: str,
              request_id: int | None = None, dedupe_key: str | None = None,
              max_attempts: int = 6, send_at: datetime | None = None) -> CitizenMessage:
    """One SMS to a citizen, queued in ``session``'s transaction (the caller commits);
    not sent before ``send_at`` when given (calling hours)."""
    return queue_message(session=session, channel=SMS_CHANNEL, to=to, body=body, kind=kind,
                         request_id=request_id, dedupe_key=dedupe_key,
                         max_attempts=max_attempts, send_at=send_at)


class SmsSender:
    """The app's SMS service (``None`` when none is configured) and the delivery's wake."""

    def __init__(self, service: SmsService | None,
                 wake: Callable[[], None] | None = None) -> None:
        self.service = service
        self._wake = wake

    def wake(self) -> None:
        """A message was committed: ask the delivery for a round now (no-op without one)."""
        if self._wake is not None:
            self._wake()
