"""Call records: one row per call, written when the tracker says it ended.

Writes are idempotent by linkedid: a replay, a reconnect resync or the recovery from
Asterisk's own logs can all report the same call, and it is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from callcenter.callrecords.models import DEFAULT_PBX, Call
from callcenter.calls.events import CallEnded, Outcome
from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.models import RequestEvent
from callcenter.cases.services import get_request_by_code
from callcenter.citizens.phone import InvalidPhone
from callcenter.citizens.services import get_or_create_citizen
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.services import create_task

# Outcomes that put the caller on the agents' follow-up list.
FOLLOW_UP_TASKS = {Outcome.ABANDONED: TaskKind.ABANDONED, Outcome.MISSED: TaskKind.MISSED}


def _ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def record_call(*, session: Session, ended: CallEnded, source: str = "ami",
                pbx: str = DEFAULT_PBX) -> Call:
    """Store the call (once per (pbx, linkedid)), link it to its request and make its
    follow-up task."""
    same = (Call.pbx == pbx, Call.linkedid == ended.linkedid)
    existing = session.exec(select(Call).where(*same)).first()
    if existing is not None:
        return existing
    citizen_id = _citizen_id(session=session, ended=ended)
    call = Call(
        pbx=pbx,
        linkedid=ended.linkedid,
        uniqueid=ended.linkedid,
        caller=ended.caller or None,
        caller_name=ended.caller_name or None,
        citizen_id=citizen_id,
        queue=ended.queue,
        direction="outbound" if ended.originated else "inbound",
        agent=_agent(ended),
        entered_at=_ts(ended.started_at) or datetime.now(UTC),
        answered_at=_ts(ended.answered_at),
        ended_at=_ts(ended.ended_at),
        wait_seconds=round(ended.wait_seconds, 3),
        talk_seconds=round(ended.talk_seconds, 3),
        outcome=str(ended.outcome),
        hangup_by=ended.hangup_by,
        ivr_path=">".join(ended.ivr_path) or None,
        source=source,
        details=_details(ended),
    )
    # The request is found before the INSERT, so the row is written linked (no UPDATE).
    linked = _link_request(session=session, call=call, request_code=ended.request_code)
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:  # written meanwhile by another path (recovery vs live)
        return session.exec(select(Call).where(*same)).one()
    for event in linked:  # the events get the call's id: one batched UPDATE at the flush
        event.call_id = call.id
        session.add(event)
    kind = FOLLOW_UP_TASKS.get(ended.outcome)
    if kind is not None and citizen_id is not None and ended.queue:
        already = session.exec(select(Task).where(Task.call_linkedid == ended.linkedid)).first()
        if already is None:
            create_task(
                session=session,
                kind=kind,
                citizen_id=citizen_id,
                request_id=call.request_id,
                call_linkedid=ended.linkedid,
                due_at=call.entered_at,
                note=f"{kind} call",
            )
    return call


# Outbound calls an agent places for a citizen: the agent's phone is rung first.
_AGENT_PLACED = frozenset({"callback", "click-to-call"})


def _agent(ended: CallEnded) -> str | None:
    """The agent of the call: who answered it, or the agent who placed it."""
    if not ended.originated:
        return ended.answered_by
    return ended.caller or None if ended.purpose in _AGENT_PLACED else None


def _citizen_id(*, session: Session, ended: CallEnded) -> int | None:
    """The citizen: the caller of an inbound call, the party reached by an outbound one."""
    if ended.originated:
        phones = [p for p in (ended.answered_by, *ended.parties) if p and p != ended.caller]
    else:
        phones = [ended.caller] if ended.caller else []
    for phone in phones:
        try:
            name = None if ended.originated else ended.caller_name or None
            return get_or_create_citizen(session=session, phone=phone, name=name).id
        except InvalidPhone:
            continue  # anonymous caller, an agent's extension, the 137 shown on a survey
    return None


def _details(ended: CallEnded) -> dict[str, Any]:
    return {
        "parties": list(ended.parties),
        "transfers": [
            {
                "kind": str(t.kind),
                "from": t.from_party,
                "to": t.to,
                "at": t.at,
                "result": str(t.result) if t.result else None,
                "answered_by": t.answered_by,
            }
            for t in ended.transfers
        ],
        "joined_late": ended.joined_late,
        # False: its hangup was never seen (ended by a reconcile with CoreShowChannels);
        # the end time is when the bridge noticed, unless recovery found Asterisk's CDR.
        "end_seen": ended.end_seen,
        "purpose": ended.purpose,
        "answered_by": ended.answered_by,
        "ended_with": ended.ended_with,
    }


def _link_request(*, session: Session, call: Call, request_code: str | None
                  ) -> Sequence[RequestEvent]:
    """Set the request of ``call`` (not yet a row): the one named in the IVR, or
    filed/updated during the call; returns that call's request events to link.

    Agents' and the IVR's request events carry the call's ``linkedid`` (the call is not
    a row yet while it is up); they get the call's id once it is written.
    """
    since = call.entered_at - timedelta(minutes=1)
    linked = session.exec(
        select(RequestEvent)
        .where(RequestEvent.linkedid == call.linkedid)
        .where(col(RequestEvent.at) >= since)
        .where(col(RequestEvent.call_id).is_(None))
        .order_by(col(RequestEvent.id))
    ).all()
    if linked:
        call.request_id = linked[-1].request_id
    elif request_code:
        try:
            call.request_id = get_request_by_code(session=session, code=request_code).id
        except NoSuchRequest:
            call.request_id = None
    return linked
