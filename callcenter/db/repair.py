"""Find and put right what non-atomic SQLite transactions left in a store (issue 21).

Before the engine fix, a session rolled back on SQLite kept whatever its first
``begin_nested()`` had inserted: a filing left a ``new`` request with no history and no
Shahrbin outbox item; a call record kept its row but lost its follow-up task (the
recorder's retry then found the call stored and did nothing). ``find_damage`` lists
those rows; ``repair`` writes what the filing or the call record would have written:

* a request without its ``created`` event gets one (at the request's own time) and, if
  it is still ``new``, the referral to its department that every filing makes;
* a request without its ``request_created`` outbox item gets one, so Shahrbin hears of it;
* an abandoned or missed queue call of a known citizen without its follow-up task gets it.

Each fix writes exactly the row the check looks for, so a second run finds nothing.
The caller owns the transaction (``callcenter db repair --fix`` commits once).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists
from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.callrecords.services import FOLLOW_UP_TASKS
from callcenter.cases.models import CitizenRequest, RequestEvent, RequestStatus
from callcenter.cases.services import add_event, change_status
from callcenter.followups.models import Task
from callcenter.followups.services import create_task
from callcenter.outbox.models import OutboxItem
from callcenter.outbox.writer import OutboxKind, enqueue

REPAIR_ACTOR = "db-repair"
NO_CREATED_EVENT = "no-created-event"
NO_OUTBOX_ITEM = "no-outbox-item"
NO_FOLLOW_UP_TASK = "no-follow-up-task"


@dataclass(frozen=True)
class Damage:
    """One thing a rolled-back session left behind: ``subject`` is a tracking code or a
    call's linkedid (never a phone number)."""

    problem: str
    row_id: int
    subject: str

    def describe(self) -> str:
        what = {NO_CREATED_EVENT: "request {s}: no 'created' event in its history",
                NO_OUTBOX_ITEM: "request {s}: never queued for Shahrbin",
                NO_FOLLOW_UP_TASK: "call {s}: no follow-up task"}[self.problem]
        return what.format(s=self.subject)


def find_damage(*, session: Session) -> list[Damage]:
    """Every request without its ``created`` event or outbox item, every follow-up call
    without its task; oldest first within each kind."""
    created = exists().where(col(RequestEvent.request_id) == CitizenRequest.id).where(
        col(RequestEvent.kind) == "created")
    queued = exists().where(col(OutboxItem.request_id) == CitizenRequest.id).where(
        col(OutboxItem.kind) == OutboxKind.CREATED)
    has_task = exists().where(col(Task.call_linkedid) == Call.linkedid)
    damage = [Damage(NO_CREATED_EVENT, row_id, code) for row_id, code in session.exec(
        select(CitizenRequest.id, CitizenRequest.tracking_code).where(~created)
        .order_by(col(CitizenRequest.id))).all() if row_id is not None]
    damage += [Damage(NO_OUTBOX_ITEM, row_id, code) for row_id, code in session.exec(
        select(CitizenRequest.id, CitizenRequest.tracking_code).where(~queued)
        .order_by(col(CitizenRequest.id))).all() if row_id is not None]
    damage += [Damage(NO_FOLLOW_UP_TASK, row_id, linkedid) for row_id, linkedid in session.exec(
        select(Call.id, Call.linkedid)
        .where(col(Call.outcome).in_([str(o) for o in FOLLOW_UP_TASKS]))
        .where(col(Call.citizen_id).is_not(None)).where(col(Call.queue).is_not(None))
        .where(~has_task).order_by(col(Call.id))).all() if row_id is not None]
    return damage


def repair(*, session: Session) -> list[Damage]:
    """Write what every item of ``find_damage`` lacks; returns what was put right."""
    damage = find_damage(session=session)
    # History first: the outbox payload then carries the status the referral set.
    for item in sorted(damage, key=lambda d: d.problem != NO_CREATED_EVENT):
        if item.problem == NO_FOLLOW_UP_TASK:
            _add_follow_up_task(session=session, call_id=item.row_id)
            continue
        request = session.get(CitizenRequest, item.row_id)
        assert request is not None
        if item.problem == NO_CREATED_EVENT:
            _write_filing_history(session=session, request=request)
        else:
            enqueue(session=session, request=request, kind=OutboxKind.CREATED)
        session.flush()
    return damage


def _write_filing_history(*, session: Session, request: CitizenRequest) -> None:
    event = add_event(session=session, request=request, kind="created", actor=REPAIR_ACTOR,
                      channel=request.channel, to_status=RequestStatus.NEW,
                      note="history lost to a rolled-back transaction (issue 21), rewritten",
                      data={"repaired": True})
    event.at = request.created_at
    if RequestStatus(request.status) == RequestStatus.NEW:
        change_status(session=session, request=request, to_status=RequestStatus.REFERRED,
                      actor=REPAIR_ACTOR, note=f"referred to {request.department_code}",
                      notify_crm=False)  # the request_created item tells Shahrbin


def _add_follow_up_task(*, session: Session, call_id: int) -> None:
    call = session.get(Call, call_id)
    assert call is not None
    kind = next(k for outcome, k in FOLLOW_UP_TASKS.items() if str(outcome) == call.outcome)
    create_task(session=session, kind=kind, citizen_id=call.citizen_id,
                request_id=call.request_id, call_linkedid=call.linkedid,
                due_at=call.entered_at, note=f"{kind} call (restored by db repair)")
