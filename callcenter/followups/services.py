"""Follow-up tasks on the agents' list: create, list, close by hand, manual survey answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_
from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import add_event
from callcenter.citizens.models import Citizen
from callcenter.citizens.services import set_opt_out
from callcenter.clock import as_utc, utcnow
from callcenter.errors import Conflict, Forbidden, InvalidInput, NotFound
from callcenter.followups.models import Task, TaskKind, TaskState
from callcenter.followups.surveys import settle_request, store_answer

CLOSED_STATES = frozenset({TaskState.DONE, TaskState.FAILED, TaskState.CANCELLED,
                           TaskState.SKIPPED})


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


OPEN_TASK_STATES = (TaskState.PENDING, TaskState.CLAIMED, TaskState.WAITING)


def open_task_filter(*, assigned_user_id: int | None = None, kinds: Sequence[str] = ()
                     ) -> list[ColumnElement[bool]]:
    """The WHERE terms of ``open_tasks`` (also used by queries that join its rows).

    The states are literals in the SQL: SQLite uses the partial open-task index
    (``ix_task_open_due``) only when the query names the index's own constant values.
    """
    terms: list[ColumnElement[bool]] = [col(Task.state).in_(
        bindparam("open_states", [str(s) for s in OPEN_TASK_STATES], expanding=True,
                  literal_execute=True))]
    if assigned_user_id is not None:
        terms.append(or_(col(Task.assigned_user_id) == assigned_user_id,
                         col(Task.assigned_user_id).is_(None)))
    if kinds:
        terms.append(col(Task.kind).in_(list(kinds)))
    return terms


def open_tasks(
    *, session: Session, assigned_user_id: int | None = None, kinds: Sequence[str] = (),
    limit: int | None = None,
) -> Sequence[Task]:
    """Pending tasks, oldest due first (callbacks keep the order callers queued in);
    the first ``limit`` of them when given."""
    query = select(Task).where(*open_task_filter(assigned_user_id=assigned_user_id,
                                                  kinds=kinds))
    return session.exec(query.order_by(col(Task.due_at), col(Task.id)).limit(limit)).all()


def get_task(*, session: Session, task_id: int, acting_user_id: int | None = None) -> Task:
    """The task ``task_id``; with ``acting_user_id`` (an agent, not a supervisor) only when
    it is that agent's own or unassigned, else ``Forbidden`` (an id is not a permission)."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("no such follow-up task", task_id=task_id)
    if acting_user_id is not None and task.assigned_user_id not in (None, acting_user_id):
        raise Forbidden("this follow-up is assigned to another agent", task_id=task_id)
    return task


# What an agent says happened (the list's "done" menu). ``not_reached`` keeps the task
# open, due again after ``NOT_REACHED_RETRY``; the others close it.
OUTCOMES = ("reached", "not_reached", "wrong_number", "resolved", "done", "cancelled")
NOT_REACHED_RETRY = timedelta(minutes=30)


def log_action(*, session: Session, task: Task, action: str, actor: str,
               actor_name: str | None = None, data: dict[str, Any] | None = None) -> None:
    """The action in the request's history, with the agent's name (tasks about no
    request, e.g. a plain callback, keep it on the task's ``result``)."""
    by = actor_name or actor
    entry = {"task_id": task.id, "task_kind": task.kind, "action": action, "by": by,
             **(data or {})}
    task.result = {**(task.result or {}), "last_action": entry}
    request = session.get(CitizenRequest, task.request_id) if task.request_id else None
    if request is not None:
        add_event(session=session, request=request, kind="followup", actor=actor,
                  data=entry, note=f"{task.kind}: {action} ({by})")


def complete_task(
    *, session: Session, task_id: int, actor: str, outcome: str = "done",
    note: str | None = None, acting_user_id: int | None = None,
    actor_name: str | None = None,
) -> Task:
    """An agent closes a task by hand with an outcome (``OUTCOMES``), keeping who and
    why in the request's history."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", outcome=outcome)
    task = get_task(session=session, task_id=task_id, acting_user_id=acting_user_id)
    if task.state in CLOSED_STATES:
        raise Conflict("task already closed", task_id=task_id, state=task.state)
    now = utcnow()
    if outcome == "not_reached":
        task.state, task.due_at = TaskState.PENDING, now + NOT_REACHED_RETRY
    else:
        task.state = TaskState.CANCELLED if outcome == "cancelled" else TaskState.DONE
    task.updated_at = now
    task.claimed_by = task.claimed_until = None
    task.result = {**(task.result or {}), "closed_by": actor, "outcome": outcome}
    task.note = note or task.note
    log_action(session=session, task=task, action=f"outcome:{outcome}", actor=actor,
               actor_name=actor_name, data={"note": note} if note else None)
    session.add(task)
    session.flush()
    return task


def snooze_task(
    *, session: Session, task_id: int, until: datetime, actor: str,
    acting_user_id: int | None = None, actor_name: str | None = None,
) -> Task:
    """Move an open task to ``until`` (must be in the future, within 30 days)."""
    now = utcnow()
    until = as_utc(until)
    if not now < until <= now + timedelta(days=30):
        raise InvalidInput("snooze to a time in the next 30 days", until=until.isoformat())
    task = get_task(session=session, task_id=task_id, acting_user_id=acting_user_id)
    if task.state in CLOSED_STATES:
        raise Conflict("task already closed", task_id=task_id, state=task.state)
    task.due_at, task.updated_at = until, now
    if task.state == TaskState.WAITING:
        task.state = TaskState.PENDING
    log_action(session=session, task=task, action="snooze", actor=actor,
               actor_name=actor_name, data={"until": until.isoformat()})
    session.add(task)
    session.flush()
    return task


def record_manual_survey(
    *, session: Session, task_id: int, rating: int, fixed: bool | None, actor: str,
    acting_user_id: int | None = None,
) -> str | None:
    """Answers an agent typed after a survey call from the list: stored on the request,
    the task done, and the request closed or reopened at once. Returns the new status."""
    if not 1 <= rating <= 5:
        raise InvalidInput("rating must be 1 to 5", rating=rating)
    task = get_task(session=session, task_id=task_id, acting_user_id=acting_user_id)
    request = session.get(CitizenRequest, task.request_id) if task.request_id else None
    if request is None:
        raise InvalidInput("this task is not about a request", task_id=task_id)
    if request.status != RequestStatus.RESOLVED:
        raise Conflict("the request is not awaiting a survey", status=request.status)
    now = utcnow()
    store_answer(session=session, request=request, rating=rating, fixed=fixed,
                 channel="phone", actor=actor, now=now)
    session.flush()
    status = settle_request(session=session, request_id=request.id,  # type: ignore[arg-type]
                            now=now)
    if task.state not in CLOSED_STATES:
        task.state, task.updated_at = TaskState.DONE, now
        task.result = {**(task.result or {}), "rating": rating, "fixed": fixed,
                       "entered_by": actor}
        session.add(task)
    return status


def opt_out_request_citizen(*, session: Session, request: CitizenRequest, actor: str,
                            channel: str, actor_name: str | None = None) -> None:
    """Opt the citizen of ``request`` out of every follow-up (voice and SMS): by voice in
    a survey call, or by an agent on the case; their open survey tasks end, and the
    request's history says who. (SMS "لغو" does the same in ``sms.inbound``.)"""
    citizen = session.get(Citizen, request.citizen_id)
    if citizen is None:
        raise InvalidInput("this request has no citizen")
    set_opt_out(session=session, citizen=citizen, opted_out=True)
    now = utcnow()
    for task in session.exec(select(Task).where(Task.citizen_id == citizen.id).where(
            col(Task.kind).in_([TaskKind.SURVEY_SMS, TaskKind.SURVEY_CALL])).where(
            col(Task.state).in_([TaskState.PENDING, TaskState.WAITING]))).all():
        task.state, task.updated_at, task.note = TaskState.SKIPPED, now, "not contacted: opted-out"
        session.add(task)
    add_event(session=session, request=request, kind="opt_out", actor=actor, channel=channel,
              data={"by": actor_name or actor}, note="citizen opted out of follow-ups")
