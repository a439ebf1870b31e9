"""Follow-up tasks on the agents' list (the engine that runs them builds on this)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from callcenter.clock import utcnow
from callcenter.followups.models import Task, TaskKind, TaskState


def create_task(
    *,
    session: Session,
    kind: TaskKind | str,
    citizen_id: int | None = None,
    request_id: int | None = None,
    call_linkedid: str | None = None,
    due_at: datetime | None = None,
    note: str | None = None,
    result: dict[str, Any] | None = None,
    assigned_user_id: int | None = None,
) -> Task:
    """Put a follow-up on the list; a callback keeps the caller's place via ``due_at``."""
    now = utcnow()
    task = Task(
        kind=TaskKind(kind), citizen_id=citizen_id, request_id=request_id,
        call_linkedid=call_linkedid, due_at=due_at or now, note=note, result=result,
        assigned_user_id=assigned_user_id, created_at=now, updated_at=now,
    )
    session.add(task)
    session.flush()
    return task


def open_tasks(
    *, session: Session, assigned_user_id: int | None = None, kinds: Sequence[str] = ()
) -> Sequence[Task]:
    """Pending tasks, oldest due first (callbacks keep the order callers queued in)."""
    query = select(Task).where(
        col(Task.state).in_([TaskState.PENDING, TaskState.CLAIMED, TaskState.WAITING])
    )
    if assigned_user_id is not None:
        query = query.where(
            or_(col(Task.assigned_user_id) == assigned_user_id,
                col(Task.assigned_user_id).is_(None))
        )
    if kinds:
        query = query.where(col(Task.kind).in_(list(kinds)))
    return session.exec(query.order_by(col(Task.due_at), col(Task.id))).all()
