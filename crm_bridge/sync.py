"""Kept for callers written before ``cases.services.change_status`` fed the outbox
itself: it is now the same call."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status


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
    return change_status(session=session, request=request, to_status=to_status, actor=actor,
                         note=note, data=data)
