"""``queue_message``: add a citizen message inside the caller's transaction, so the
cause (a filed request, a status change) and its message commit or roll back together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from callcenter.clock import utcnow
from callcenter.messages.models import CitizenMessage, MessageState


def queue_message(
    *, session: Session, channel: str, to: str, body: str, kind: str,
    request_id: int | None = None, dedupe_key: str | None = None, max_attempts: int = 6,
    send_at: datetime | None = None,
) -> CitizenMessage:
    """One pending message (the caller commits). With ``dedupe_key``, a second call for
    the same key returns the first row instead of queueing another. ``send_at``: not
    before then (the contact policy's calling hours); now when not given."""
    if dedupe_key is not None:
        found = session.exec(
            select(CitizenMessage).where(CitizenMessage.dedupe_key == dedupe_key)).first()
        if found is not None:
            return found
    now = utcnow()
    row = CitizenMessage(channel=channel, to_address=to, body=body, kind=kind,
                         request_id=request_id, state=MessageState.PENDING,
                         max_attempts=max_attempts, next_attempt_at=send_at or now,
                         created_at=now,
                         dedupe_key=dedupe_key)
    if dedupe_key is None:
        session.add(row)
        return row
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another transaction queued the same key meanwhile
        found = session.exec(
            select(CitizenMessage).where(CitizenMessage.dedupe_key == dedupe_key)).one()
        return found
    return row
