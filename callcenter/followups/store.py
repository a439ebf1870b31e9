"""The engine's store work: claim due tasks, read what a send needs, record outcomes.

Claiming is what keeps several instances from sending the same follow-up twice
(``db/claiming.claim_rows``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
``UPDATE ... WHERE <still due>`` everywhere).

A claim is a lease (``claimed_by``/``claimed_until``): a crashed instance's tasks become
claimable again when the lease runs out, and ``finish`` refuses to write a task whose
lease was taken over by someone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.db.claiming import claim_rows
from callcenter.followups.models import (
    ContactAttempt,
    ContactDecision,
    Task,
    TaskState,
)


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending tasks whose time came (automatic attempts left: an exhausted callback stays
    on the agents' list), waiting tasks whose wait ended, claims whose lease ran out."""
    return or_(
        and_(col(Task.state) == TaskState.PENDING, col(Task.due_at) <= now,
             col(Task.attempts) < col(Task.max_attempts)),
        and_(col(Task.state) == TaskState.WAITING, col(Task.due_at) <= now),
        and_(col(Task.state) == TaskState.CLAIMED, col(Task.claimed_until) < now),
    )


def claim_due(
    *, session: Session, owner: str, now: datetime, lease: timedelta,
    kinds: Sequence[str], limit: int,
) -> list[int]:
    """Claim up to ``limit`` due tasks of ``kinds`` for ``owner``; commits; their ids."""
    if not kinds or limit <= 0:
        return []
    claimed = claim_rows(
        session=session, table=Task, due=and_(col(Task.kind).in_(list(kinds)), _due(now)),
        order_by=[col(Task.due_at), col(Task.id)], limit=limit,
        values={"state": TaskState.CLAIMED, "claimed_by": owner,
                "claimed_until": now + lease, "updated_at": now})
    session.commit()
    return claimed


@dataclass(frozen=True)
class TaskView:
    """A claimed task with what its handler needs, read in one session."""

    id: int
    kind: str
    attempts: int
    max_attempts: int
    result: dict[str, Any]
    citizen_id: int | None
    phone: str | None
    opted_out: bool
    request_id: int | None
    request_code: str | None
    request_status: str | None
    duplicate_of_id: int | None
    resolved_at: datetime | None
    surveyed: bool  # the request has a survey answer for its latest resolution
    due_at: datetime | None = None  # a callback's: when its caller joined the queue

    @property
    def phase(self) -> str:
        return str(self.result.get("phase", "new"))


def load_view(*, session: Session, task_id: int, owner: str) -> TaskView | None:
    """The task if ``owner`` still holds its claim, else ``None``."""
    task = session.get(Task, task_id)
    if task is None or task.state != TaskState.CLAIMED or task.claimed_by != owner:
        return None
    citizen = session.get(Citizen, task.citizen_id) if task.citizen_id else None
    request = session.get(CitizenRequest, task.request_id) if task.request_id else None
    surveyed = bool(
        request is not None and request.survey_at is not None
        and (request.resolved_at is None or request.survey_at >= request.resolved_at)
    )
    assert task.id is not None
    return TaskView(
        id=task.id, kind=task.kind, attempts=task.attempts, max_attempts=task.max_attempts,
        result=dict(task.result or {}), citizen_id=task.citizen_id,
        phone=citizen.phone if citizen else None,
        opted_out=bool(citizen and citizen.opted_out),
        request_id=task.request_id, request_code=request.tracking_code if request else None,
        request_status=request.status if request else None,
        duplicate_of_id=request.duplicate_of_id if request else None,
        resolved_at=request.resolved_at if request else None, surveyed=surveyed,
        due_at=task.due_at,
    )


def finish(
    *, session: Session, task_id: int, owner: str, now: datetime, state: TaskState,
    due_at: datetime | None = None, result: dict[str, Any] | None = None,
    attempts: int | None = None, note: str | None = None,
) -> bool:
    """Write a handler's outcome if ``owner`` still holds the claim (the caller commits).

    ``state`` CLAIMED keeps the claim (an intent written before a send); any other
    state releases it. Returns False when the claim was lost (nothing written).
    """
    values: dict[str, Any] = {"state": state, "updated_at": now}
    if state != TaskState.CLAIMED:
        values.update(claimed_by=None, claimed_until=None)
    if due_at is not None:
        values["due_at"] = due_at
    if result is not None:
        values["result"] = result
    if attempts is not None:
        values["attempts"] = attempts
    if note is not None:
        values["note"] = note
    outcome = session.execute(
        update(Task).where(col(Task.id) == task_id).where(col(Task.claimed_by) == owner)
        .where(col(Task.state) == TaskState.CLAIMED).values(**values)
    )
    return outcome.rowcount == 1  # type: ignore[attr-defined]


def record_contact(
    *, session: Session, task_id: int | None, citizen_id: int | None, channel: str,
    decision: ContactDecision, reason: str | None, now: datetime,
    detail: dict[str, Any] | None = None,
) -> ContactAttempt:
    """One line of the contact log: sent, skipped (why) or failed (why)."""
    row = ContactAttempt(task_id=task_id, citizen_id=citizen_id, channel=channel, at=now,
                         decision=decision, reason=reason, detail=detail)
    session.add(row)
    return row


def recent_contacts(*, session: Session, citizen_id: int | None, since: datetime
                    ) -> list[datetime]:
    """When the citizen was contacted (``sent``) since ``since``: what the cap counts."""
    if citizen_id is None:
        return []
    return list(session.exec(
        select(ContactAttempt.at).where(ContactAttempt.citizen_id == citizen_id)
        .where(ContactAttempt.decision == ContactDecision.SENT)
        .where(col(ContactAttempt.at) >= since)
    ).all())
