"""The follow-up list on the panel: callbacks, abandoned and missed calls, surveys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from callcenter.agent_panel.schemas import TaskOut
from callcenter.auth.services import SignedInUser
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.clock import as_utc
from callcenter.errors import InvalidInput, NotFound
from callcenter.followups.models import Task
from callcenter.followups.services import log_action, open_tasks
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
    """An agent's own and unassigned open tasks; a supervisor's view is every task."""
    rows = open_tasks(session=session, limit=MAX_TASKS,
                      assigned_user_id=None if user.is_supervisor else user.id)
    related = _load_related(session, rows)  # held: the session's identity map is weak
    out = [_out(session, task) for task in rows]
    del related
    return out


def _load_related(session: Session, tasks: Sequence[Task]) -> list[object]:
    """Citizens, requests and assignees of ``tasks`` in one query each: ``_out``'s
    ``session.get`` then finds them in the session (not one query per task)."""
    loaded: list[object] = []
    for model, ids in ((Citizen, {t.citizen_id for t in tasks}),
                       (CitizenRequest, {t.request_id for t in tasks}),
                       (User, {t.assigned_user_id for t in tasks})):
        wanted = [i for i in ids if i is not None]
        if wanted:
            loaded.extend(session.exec(select(model).where(col(model.id).in_(wanted))).all())
    return loaded


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
