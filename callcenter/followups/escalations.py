"""Overdue requests escalate: at each configured level (percent of the category's
deadline, in its calendar or working hours) the department hears of it through the
Shahrbin outbox, the request's history gets one line, and at the first level an
``overdue`` task goes on the agents' list. Later levels go to the department's head and
show on the supervisors' live page.

Once only, with several instances: each escalation is an ``escalation`` row with a
unique key (request, level, deadline), inserted in a savepoint in the same transaction
as its history line, outbox line and task; the instance whose insert loses writes
nothing. A department's status update (``clear_overdue``) closes the open overdue task.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from callcenter.cases.deadlines import category_deadline
from callcenter.cases.models import OPEN_STATUSES, CitizenRequest
from callcenter.cases.services import add_event
from callcenter.clock import as_utc
from callcenter.followups.models import Escalation, Task, TaskKind, TaskState
from callcenter.outbox.writer import enqueue
from callcenter.reference.hours import Hours
from callcenter.reference.models import Category

ESCALATED = "request_escalated"  # outbox kind (``config/shahrbin.yaml`` maps it)


def escalation_key(request_id: int, level: int, deadline_at: datetime) -> str:
    return f"{request_id}:{level}:{int(as_utc(deadline_at).timestamp())}"


def level_due(*, request: CitizenRequest, category: Category, percent: float,
              calendar: Hours | None) -> datetime:
    """When ``percent`` of the request's allotted time has run (100: its deadline)."""
    assert request.deadline_at is not None
    if percent == 100:
        return as_utc(request.deadline_at)
    return as_utc(category_deadline(category=category, start=as_utc(request.created_at),
                                    calendar=calendar, percent=percent))


def escalate_overdue(*, session: Session, now: datetime, levels: Sequence[float],
                     calendar: Hours | None, limit: int = 200) -> int:
    """Write every escalation now due (commits per request); how many were written."""
    rows = session.exec(
        select(CitizenRequest, Category)
        .join(Category, col(Category.code) == col(CitizenRequest.category_code))
        .where(col(CitizenRequest.status).in_(list(OPEN_STATUSES)))
        .where(col(CitizenRequest.deadline_at).is_not(None))
        .where(col(CitizenRequest.deadline_at) <= now)
        .order_by(col(CitizenRequest.deadline_at)).limit(limit)
    ).all()
    written = 0
    for request, category in rows:
        for level, percent in enumerate(levels, start=1):
            if level_due(request=request, category=category, percent=percent,
                         calendar=calendar) > now:
                break
            if _escalate(session=session, request=request, level=level, percent=percent,
                         now=now):
                written += 1
        session.commit()
    return written


def _escalate(*, session: Session, request: CitizenRequest, level: int, percent: float,
              now: datetime) -> bool:
    assert request.id is not None and request.deadline_at is not None
    target = "department" if level == 1 else "head"
    row = Escalation(key=escalation_key(request.id, level, request.deadline_at),
                     request_id=request.id, level=level, percent=percent, target=target,
                     at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False  # this level was written before (here or by another instance)
    detail = {"level": level, "percent": percent, "target": target,
              "deadline_at": as_utc(request.deadline_at).isoformat()}
    add_event(session=session, request=request, kind="escalation", actor="deadline",
              data=detail, note=f"past {percent:g}% of its deadline: escalated to the "
                                f"{'department' if level == 1 else 'department head'}")
    enqueue(session=session, request=request, kind=ESCALATED, extra=detail)
    open_task = _open_overdue(session, request.id)
    if open_task is None:
        session.add(Task(kind=TaskKind.OVERDUE, request_id=request.id,
                         citizen_id=request.citizen_id, due_at=now, created_at=now,
                         updated_at=now, result=detail,
                         note=f"past its deadline (level {level})"))
    else:
        open_task.result = {**(open_task.result or {}), **detail}
        open_task.note, open_task.updated_at = f"past its deadline (level {level})", now
        session.add(open_task)
    return True


def _open_overdue(session: Session, request_id: int) -> Task | None:
    return session.exec(
        select(Task).where(Task.request_id == request_id).where(Task.kind == TaskKind.OVERDUE)
        .where(col(Task.state).in_([TaskState.PENDING, TaskState.CLAIMED,
                                    TaskState.WAITING]))
    ).first()


def clear_overdue(*, session: Session, request_id: int, now: datetime, actor: str) -> int:
    """A status update from the department closes the request's open overdue task."""
    result = session.execute(
        update(Task).where(col(Task.request_id) == request_id)
        .where(col(Task.kind) == TaskKind.OVERDUE)
        .where(col(Task.state).in_([TaskState.PENDING, TaskState.CLAIMED,
                                    TaskState.WAITING]))
        .values(state=TaskState.DONE, updated_at=now, claimed_by=None, claimed_until=None,
                note=f"cleared by a status update ({actor})")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def open_escalations(*, session: Session, min_level: int = 2, limit: int = 50
                     ) -> list[dict[str, object]]:
    """Open overdue tasks escalated to ``min_level`` or beyond: the supervisors' alert."""
    rows = session.exec(
        select(Task, CitizenRequest)
        .join(CitizenRequest, col(CitizenRequest.id) == col(Task.request_id))
        .where(Task.kind == TaskKind.OVERDUE)
        .where(col(Task.state).in_([TaskState.PENDING, TaskState.CLAIMED,
                                    TaskState.WAITING]))
        .order_by(col(CitizenRequest.deadline_at)).limit(limit)
    ).all()
    alerts: list[dict[str, object]] = []
    for task, request in rows:
        level = int((task.result or {}).get("level", 1))
        if level >= min_level:
            alerts.append({"task_id": task.id, "tracking_code": request.tracking_code,
                           "department_code": request.department_code, "level": level,
                           "deadline_at": as_utc(request.deadline_at).isoformat()
                           if request.deadline_at else None})
    return alerts
