"""The follow-up list on the panel: callbacks, abandoned and missed calls, surveys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from callcenter.agent_panel.schemas import TaskOut
from callcenter.auth.services import SignedInUser
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.clock import as_utc
from callcenter.errors import InvalidInput, NotFound
from callcenter.followups.models import Task
from callcenter.followups.services import log_action, open_task_filter
from callcenter.users.models import User

MAX_TASKS = 200


def _out(session: Session, task: Task) -> TaskOut:
    citizen = session.get(Citizen, task.citizen_id) if task.citizen_id else None
    request = session.get(CitizenRequest, task.request_id) if task.request_id else None
    assignee = session.get(User, task.assigned_user_id) if task.assigned_user_id else None
    assert task.id is not None
    return TaskOut(
        id=task.id, kind=task.kind, state=task.state, due_at=as_utc(task.due_at).isoformat(),
        phone=citizen.phone if citizen else None,
        tracking_code=request.tracking_code if request else None,
        call_linkedid=task.call_linkedid, assigned_user_id=task.assigned_user_id,
        assigned_to=(assignee.full_name or assignee.username) if assignee else None,
        note=task.note, citizen_name=citizen.name if citizen else None,
        request_status=request.status if request else None,
        category_code=request.category_code if request else None, attempts=task.attempts,
        last_action=(task.result or {}).get("last_action"),
    )


def task_rows(*, session: Session, user: SignedInUser) -> list[TaskOut]:
    """An agent's own and unassigned open tasks; a supervisor's view is every task.

    One query: the first ``MAX_TASKS`` open tasks from the partial open-task index,
    each with its citizen's phone, its request's code and its assignee's name joined
    (only those columns, no ORM rows to build)."""
    # The related names as correlated scalar subqueries, each a primary-key probe for
    # one of the (at most MAX_TASKS) listed tasks: the planner cannot turn them into a
    # hash join over the whole citizen or request table, as it may do with JOINs.
    def of_citizen(column: Any) -> Any:
        return (sa_select(column).where(col(Citizen.id) == col(Task.citizen_id))
                .scalar_subquery())

    def of_request(column: Any) -> Any:
        return (sa_select(column).where(col(CitizenRequest.id) == col(Task.request_id))
                .scalar_subquery())

    assignee = (sa_select(func.coalesce(func.nullif(col(User.full_name), ""),
                                        col(User.username)))
                .where(col(User.id) == col(Task.assigned_user_id)).scalar_subquery())
    query = (
        sa_select(col(Task.id), col(Task.kind), col(Task.state), col(Task.due_at),
                  of_citizen(col(Citizen.phone)), of_request(col(CitizenRequest.tracking_code)),
                  col(Task.call_linkedid), col(Task.assigned_user_id), assignee,
                  col(Task.note), of_citizen(col(Citizen.name)),
                  of_request(col(CitizenRequest.status)),
                  of_request(col(CitizenRequest.category_code)), col(Task.attempts),
                  col(Task.result))
        .where(*open_task_filter(assigned_user_id=None if user.is_supervisor else user.id))
        .order_by(col(Task.due_at), col(Task.id))
        .limit(MAX_TASKS)
    )
    return [
        TaskOut(id=task_id, kind=kind, state=state, due_at=as_utc(due_at).isoformat(),
                phone=phone_number, tracking_code=tracking_code, call_linkedid=linkedid,
                assigned_user_id=assigned_id, assigned_to=assigned_to, note=note,
                citizen_name=name, request_status=status, category_code=category,
                attempts=attempts or 0, last_action=(result or {}).get("last_action"))
        for (task_id, kind, state, due_at, phone_number, tracking_code, linkedid,
             assigned_id, assigned_to, note, name, status, category, attempts,
             result) in session.execute(query)
    ]


def assign(*, session: Session, task_id: int, user_id: int | None, actor: str = "supervisor",
           actor_name: str | None = None) -> TaskOut:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("no such task", task_id=task_id)
    if user_id is not None:
        target = session.get(User, user_id)
        if target is None or not target.active:
            raise InvalidInput("no such active user", user_id=user_id)
    task.assigned_user_id = user_id
    log_action(session=session, task=task, action="assign", actor=actor,
               actor_name=actor_name, data={"user_id": user_id})
    session.add(task)
    session.flush()
    return _out(session, task)
