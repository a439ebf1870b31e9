"""Fill and read the outbox. ``enqueue`` runs inside the caller's transaction, so a
request change and its outbox line commit (or roll back) together: nothing is lost."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest
from callcenter.clock import utcnow
from crm_bridge.exceptions import NoSuchOutboxItem, NotDeadLetter
from crm_bridge.models import OutboxItem, OutboxState


class OutboxKind:
    CREATED = "request_created"
    CONTACT = "request_contact"
    STATUS = "status_changed"


def request_payload(request: CitizenRequest) -> dict[str, Any]:
    """Our canonical fields; ``config/shahrbin.yaml`` maps them to Shahrbin's names."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "tracking_code": request.tracking_code,
        "channel": request.channel,
        "category_code": request.category_code,
        "department_code": request.department_code,
        "neighbourhood_code": request.neighbourhood_code,
        "description": request.description,
        "status": request.status,
        "reporter_count": request.reporter_count,
        "duplicate_of_id": request.duplicate_of_id,
        "created_at": iso(request.created_at),
        "updated_at": iso(request.updated_at),
        "deadline_at": iso(request.deadline_at),
    }


def enqueue(
    *, session: Session, request: CitizenRequest, kind: str, extra: dict[str, Any] | None = None
) -> OutboxItem:
    """Add one event for ``request`` to the outbox (the caller commits)."""
    assert request.id is not None, "flush the request before enqueueing"
    event_id = str(uuid.uuid4())
    payload = {"event_id": event_id, "kind": kind, "request": request_payload(request)}
    if extra:
        payload["extra"] = extra
    item = OutboxItem(
        event_id=event_id, request_id=request.id, kind=kind,
        idempotency_key=f"cc137-{event_id}", payload=payload,
    )
    session.add(item)
    return item


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
