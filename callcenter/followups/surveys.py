"""Satisfaction surveys over the store: schedule one per resolution, settle the answer.

Scheduling polls instead of hooking ``change_status``: whatever resolves a request (an
agent, Shahrbin's webhook, a script) gets its survey, and a restart loses none. A
``dedupe_key`` per resolution keeps two instances from scheduling the same one twice.

Settling reads the answer wherever it was stored (the SMS reply hook, the survey IVR,
an agent's form): "not fixed" reopens the request, tells the department through the
Shahrbin outbox (``change_status`` enqueues the status event in the same transaction)
and puts a ``not_fixed`` task on the agents' list; any other answer
closes it. The request row is taken with a conditional UPDATE first, so two instances
never settle one answer twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import add_event, change_status
from callcenter.citizens.models import Citizen
from callcenter.followups.models import Task, TaskKind, TaskState

SURVEY_KINDS = (TaskKind.SURVEY_SMS, TaskKind.SURVEY_CALL)


def survey_key(kind: str, request_id: int, resolved_at: datetime) -> str:
    return f"{kind}:{request_id}:{int(resolved_at.timestamp())}"


def schedule_surveys(
    *, session: Session, now: datetime, delay: timedelta, lookback: timedelta, limit: int = 200
) -> int:
    """A ``survey_sms`` task for every recent resolution that has none; commits each.
    A citizen without a phone number (a messenger account alone) is surveyed on the bot
    only (``messenger/followup.py``)."""
    has_task = exists().where(col(Task.request_id) == col(CitizenRequest.id)).where(
        col(Task.kind).in_(list(SURVEY_KINDS))).where(
        col(Task.created_at) >= CitizenRequest.resolved_at)
    rows = session.exec(
        select(CitizenRequest.id, CitizenRequest.citizen_id, CitizenRequest.resolved_at)
        .join(Citizen, col(Citizen.id) == col(CitizenRequest.citizen_id))
        .where(col(Citizen.phone).is_not(None))
        .where(CitizenRequest.status == RequestStatus.RESOLVED)
        .where(col(CitizenRequest.resolved_at).is_not(None))
        .where(col(CitizenRequest.resolved_at) >= now - lookback)
        .where(or_(col(CitizenRequest.survey_at).is_(None),
                   col(CitizenRequest.survey_at) < CitizenRequest.resolved_at))
        .where(~has_task).order_by(col(CitizenRequest.resolved_at)).limit(limit)
    ).all()
    made = 0
    for request_id, citizen_id, resolved_at in rows:
        assert request_id is not None and resolved_at is not None
        task = Task(kind=TaskKind.SURVEY_SMS, request_id=request_id, citizen_id=citizen_id,
                    due_at=resolved_at + delay, created_at=now, updated_at=now,
                    dedupe_key=survey_key(TaskKind.SURVEY_SMS, request_id, resolved_at),
                    note="satisfaction survey")
        try:
            with session.begin_nested():
                session.add(task)
        except IntegrityError:  # another instance scheduled it first
            continue
        session.commit()
        made += 1
    return made


def store_answer(
    *, session: Session, request: CitizenRequest, rating: int | None, fixed: bool | None,
    channel: str, actor: str, now: datetime,
) -> None:
    """Write an answer on the request (``survey_*`` columns) and its history line."""
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError(f"survey rating out of range: {rating}")
    request.survey_rating, request.survey_fixed = rating, fixed
    request.survey_channel, request.survey_at = channel, now
    session.add(request)
    add_event(session=session, request=request, kind="survey", actor=actor, channel=channel,
              data={"rating": rating, "fixed": fixed})


def answered_requests(*, session: Session, limit: int = 100) -> list[int]:
    """Resolved requests with an answer for their latest resolution, not yet settled."""
    ids = session.exec(
        select(CitizenRequest.id).where(CitizenRequest.status == RequestStatus.RESOLVED)
        .where(col(CitizenRequest.survey_at).is_not(None))
        .where(col(CitizenRequest.survey_at) >= CitizenRequest.resolved_at)
        .order_by(col(CitizenRequest.survey_at)).limit(limit)
    ).all()
    return [i for i in ids if i is not None]


def settle_request(*, session: Session, request_id: int, now: datetime) -> str | None:
    """Close or reopen one answered request; ``None`` if someone else settled it.

    The caller commits. Returns the new status.
    """
    taken = session.execute(
        update(CitizenRequest).where(col(CitizenRequest.id) == request_id)
        .where(col(CitizenRequest.status) == RequestStatus.RESOLVED)
        .where(col(CitizenRequest.survey_at).is_not(None)).values(updated_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    request = session.get(CitizenRequest, request_id)
    assert request is not None
    session.refresh(request)
    answer = {"rating": request.survey_rating, "fixed": request.survey_fixed,
              "channel": request.survey_channel}
    if request.survey_fixed is False:
        change_status(
            session=session, request=request, to_status=RequestStatus.REOPENED,
            actor="survey", data=answer,
            note=f"citizen says not fixed (rating {request.survey_rating})")
        session.add(Task(kind=TaskKind.NOT_FIXED, request_id=request.id,
                         citizen_id=request.citizen_id, due_at=now, created_at=now,
                         updated_at=now, result=answer,
                         note="survey: not fixed - reopened, department alerted"))
        status = RequestStatus.REOPENED
    else:
        change_status(session=session, request=request,
                               to_status=RequestStatus.CLOSED, actor="survey", data=answer,
                               note="closed after the satisfaction survey")
        status = RequestStatus.CLOSED
    # Whatever survey tasks are still open for this request are answered now.
    session.execute(
        update(Task).where(col(Task.request_id) == request_id)
        .where(col(Task.kind).in_(list(SURVEY_KINDS)))
        .where(col(Task.state).in_([TaskState.PENDING, TaskState.WAITING]))
        .values(state=TaskState.DONE, updated_at=now, claimed_by=None, claimed_until=None)
    )
    return status


def settle_answered(*, session: Session, now: datetime, limit: int = 100) -> dict[int, str]:
    """Settle every answered request (commits one by one): request id -> new status."""
    settled: dict[int, str] = {}
    for request_id in answered_requests(session=session, limit=limit):
        status = settle_request(session=session, request_id=request_id, now=now)
        session.commit()
        if status is not None:
            settled[request_id] = status
    return settled


def close_unsurveyed(*, session: Session, now: datetime, after: timedelta, limit: int = 100
                     ) -> dict[int, str]:
    """Close resolved requests whose survey cannot run (the citizen opted out, no answer
    after every retry, no phone) once ``after`` has passed since the resolution, with
    that reason; commits each. A survey still open (pending/waiting) keeps it resolved.
    Taken with a conditional UPDATE like ``settle_request``: closed once across instances.
    """
    open_survey = exists().where(col(Task.request_id) == col(CitizenRequest.id)).where(
        col(Task.kind).in_(list(SURVEY_KINDS))).where(
        col(Task.state).in_([TaskState.PENDING, TaskState.CLAIMED, TaskState.WAITING]))
    ids = session.exec(
        select(CitizenRequest.id).where(CitizenRequest.status == RequestStatus.RESOLVED)
        .where(col(CitizenRequest.resolved_at).is_not(None))
        .where(col(CitizenRequest.resolved_at) <= now - after)
        .where(or_(col(CitizenRequest.survey_at).is_(None),
                   col(CitizenRequest.survey_at) < CitizenRequest.resolved_at))
        .where(~open_survey).order_by(col(CitizenRequest.resolved_at)).limit(limit)
    ).all()
    closed: dict[int, str] = {}
    for request_id in ids:
        assert request_id is not None
        taken = session.execute(
            update(CitizenRequest).where(col(CitizenRequest.id) == request_id)
            .where(col(CitizenRequest.status) == RequestStatus.RESOLVED).values(updated_at=now))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            continue
        request = session.get(CitizenRequest, request_id)
        assert request is not None
        session.refresh(request)
        reason = _why_no_survey(session, request_id)
        change_status(session=session, request=request, to_status=RequestStatus.CLOSED,
                      actor="survey", data={"survey": "not-run", "reason": reason},
                      note=f"closed without a survey: {reason}")
        session.commit()
        closed[request_id] = reason
    return closed


def _why_no_survey(session: Session, request_id: int) -> str:
    last = session.exec(
        select(Task).where(Task.request_id == request_id)
        .where(col(Task.kind).in_(list(SURVEY_KINDS)))
        .order_by(col(Task.updated_at).desc(), col(Task.id).desc())
    ).first()
    if last is None:
        return "no-survey"
    if last.state == TaskState.FAILED:
        return "no-answer"
    if last.note and last.note.startswith("not contacted: "):
        return last.note.removeprefix("not contacted: ")
    return str(last.state)
