"""Read the outbox (due items, dead letters) and replay a dead letter. It is filled by
``callcenter/outbox/writer.py``, in the transaction of the request change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from callcenter.clock import utcnow
from callcenter.outbox.models import OutboxItem, OutboxState
from crm_bridge.exceptions import NoSuchOutboxItem, NotDeadLetter


def due_items(*, session: Session, now: datetime | None = None, limit: int = 20
              ) -> Sequence[OutboxItem]:
    """Pending items due now, oldest first, never ahead of an older pending item of the
    same request (Shahrbin must see a request's changes in order)."""
    now = now or utcnow()
    older = aliased(OutboxItem)
    blocked = (
        select(older.id)
        .where(older.request_id == OutboxItem.request_id)
        .where(older.state == OutboxState.PENDING)
        .where(col(older.id) < OutboxItem.id)
        .exists()
    )
    query = (
        select(OutboxItem)
        .where(OutboxItem.state == OutboxState.PENDING)
        .where(col(OutboxItem.next_attempt_at) <= now)
        .where(~blocked)
        .order_by(col(OutboxItem.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # several bridge instances: each claims different rows
        query = query.with_for_update(skip_locked=True)
    return session.exec(query).all()


def dead_letters(*, session: Session, limit: int = 200) -> Sequence[OutboxItem]:
    return session.exec(
        select(OutboxItem).where(OutboxItem.state == OutboxState.DEAD)
        .order_by(col(OutboxItem.id).desc()).limit(limit)
    ).all()


def replay(*, session: Session, item_id: int) -> OutboxItem:
    """Put a dead letter back in line (same idempotency key: Shahrbin may drop a copy)."""
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise NoSuchOutboxItem("no outbox item with this id", id=item_id)
    if item.state != OutboxState.DEAD:
        raise NotDeadLetter("only dead letters can be replayed", id=item_id, state=item.state)
    item.state = OutboxState.PENDING
    item.attempts = 0
    item.next_attempt_at = utcnow()
    session.add(item)
    return item
