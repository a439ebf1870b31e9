"""The status-change wrapper that also tells Shahrbin (same transaction).

Until ``cases.services.change_status`` has a hook of its own, code that changes a
request's status on our side calls this instead so the outbox sees the change.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status
from crm_bridge.outbox import OutboxKind, enqueue


def change_status_and_sync(
    *,
    session: Session,
    request: CitizenRequest,
    to_status: RequestStatus | str,
    actor: str,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> CitizenRequest:
    """``change_status`` plus an outbox event; the caller commits both together."""
    change_status(session=session, request=request, to_status=to_status, actor=actor,
                  note=note, data=data)
    session.flush()
    enqueue(session=session, request=request, kind=OutboxKind.STATUS,
            extra={"actor": actor, "note": note})
    return request
