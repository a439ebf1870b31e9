"""Fill the outbox. ``enqueue`` runs inside the caller's transaction, so a request
change and its outbox line commit (or roll back) together: nothing is lost.

Below ``cases`` (which enqueues status changes), ``intake`` and the follow-ups; the
request is read through ``ports.OutboxSubject``, so this imports none of them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session

from callcenter.outbox.models import OutboxItem
from callcenter.outbox.ports import OutboxSubject


class OutboxKind:
    CREATED = "request_created"
    CONTACT = "request_contact"
    STATUS = "status_changed"
    UPDATED = "request_updated"


def request_payload(request: OutboxSubject) -> dict[str, Any]:
    """Our canonical fields; ``config/shahrbin.yaml`` maps them to Shahrbin's names."""
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "tracking_code": request.tracking_code,
        "channel": request.channel,
        "category_code": request.category_code,
        "department_code": request.department_code,
        "neighbourhood_code": request.neighbourhood_code,
        "district": request.district,
        "landmark": request.landmark,
        "description": request.description,
        "status": request.status,
        "reporter_count": request.reporter_count,
        "duplicate_of_id": request.duplicate_of_id,
        "created_at": iso(request.created_at),
        "updated_at": iso(request.updated_at),
        "deadline_at": iso(request.deadline_at),
        # The link itself is signed when the item is sent (crm_bridge.deliverer): it
        # expires, and a retry days later must carry a fresh one.
        "has_recording": bool(request.recording_path),
    }


def enqueue(
    *, session: Session, request: OutboxSubject, kind: str, extra: dict[str, Any] | None = None
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
