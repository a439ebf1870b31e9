"""Each signed Shahrbin webhook is acted on once: its event id (or, without one, its
signature) is remembered, so a capture replayed inside the 300 s signature window
changes nothing. Rows older than ``KEEP`` are pruned as new ones arrive (a replay older
than the window already fails the timestamp check)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from callcenter.db.types import UtcDateTime

KEEP = timedelta(days=1)
MAX_KEY_CHARS = 128


class InboundEvent(SQLModel, table=True):
    __tablename__ = "crm_inbound_event"

    key: str = Field(primary_key=True, max_length=MAX_KEY_CHARS)
    received_at: datetime = Field(sa_type=UtcDateTime, index=True)


def delivery_key(*, event_id: object, signature: str) -> str:
    """``event:<id>`` when Shahrbin sent one, else ``sig:<signature>``."""
    if isinstance(event_id, str | int) and str(event_id).strip():
        return f"event:{str(event_id).strip()}"[:MAX_KEY_CHARS]
    return f"sig:{signature.strip().lower()}"[:MAX_KEY_CHARS]


def first_delivery(*, session: Session, key: str, now: datetime) -> bool:
    """Remember ``key``; False when it was seen before (a replay)."""
    session.exec(delete(InboundEvent).where(
        col(InboundEvent.received_at) < now - KEEP))
    try:
        with session.begin_nested():
            session.add(InboundEvent(key=key, received_at=now))
    except IntegrityError:
        return False
    return True
