"""The survey hook: a 1-5 SMS reply while an SMS survey waits for an answer.

The Follow-ups engine owns surveys; it extends ``pending_survey`` /
``record_survey_answer`` (e.g. "is it fixed?" and reopening). A survey is pending for a
citizen while a ``survey_sms`` task of theirs is ``waiting`` (sent, no answer yet).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import add_event
from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.followups.models import Task, TaskKind, TaskState


def pending_survey(*, session: Session, citizen: Citizen) -> Task | None:
    """The citizen's newest SMS survey waiting for a reply, if any."""
    return session.exec(
        select(Task)
        .where(Task.citizen_id == citizen.id)
        .where(Task.kind == TaskKind.SURVEY_SMS)
        .where(Task.state == TaskState.WAITING)
        .where(col(Task.request_id).is_not(None))
        .order_by(col(Task.updated_at).desc(), col(Task.id).desc())
    ).first()


LOW_RATING = 2  # a rating this low asks "is it fixed?" before the request closes


def awaiting_fixed(task: Task) -> bool:
    return bool((task.result or {}).get("awaiting_fixed"))


def hold_low_rating(*, session: Session, task: Task, rating: int) -> None:
    """A rating of 1 or 2 is kept on the task, which stays waiting for the "is it
    fixed? 1 yes 2 no" answer (as the survey call asks); nothing is settled yet."""
    task.result = {**(task.result or {}), "rating": rating, "awaiting_fixed": True}
    task.updated_at = utcnow()
    session.add(task)


def record_survey_answer(
    *, session: Session, task: Task, rating: int, channel: str = "sms",
    fixed: bool | None = None,
) -> CitizenRequest:
    """Store the rating (and "fixed?") on the request (``survey_*``) and close the task;
    the runner settles it (closed, or reopened when not fixed)."""
    if not 1 <= rating <= 5:
        raise ValueError(f"survey rating out of range: {rating}")
    request = session.get(CitizenRequest, task.request_id)
    assert request is not None
    now = utcnow()
    request.survey_rating, request.survey_channel, request.survey_at = rating, channel, now
    request.survey_fixed = fixed
    session.add(request)
    add_event(session=session, request=request, kind="survey", actor="citizen",
              channel=channel, data={"rating": rating, "fixed": fixed, "task_id": task.id})
    task.state, task.updated_at = TaskState.DONE, now
    task.result = {**(task.result or {}), "rating": rating, "channel": channel,
                   "fixed": fixed, "awaiting_fixed": False}
    session.add(task)
    return request
