"""One intake for every channel (137, SMS, Open311 app/web/social, walk-in).

``file_request`` applies duplicate rule 1 (the same citizen, the same category, one still
open: a repeat contact on that request, not a new one), else files and routes through
``cases.create_request`` and suggests rule-2 duplicates. Every change puts an event in
the Shahrbin outbox in the same transaction. Callers own the transaction (commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import (
    OPEN_STATUSES,
    CitizenRequest,
    RequestChannel,
    RequestEvent,
    RequestStatus,
)
from callcenter.cases.services import add_event, create_request
from callcenter.citizens.models import Citizen
from callcenter.citizens.services import get_or_create_citizen
from callcenter.clock import utcnow
from callcenter.errors import InvalidInput
from callcenter.intake.duplicates import suggest_duplicates
from callcenter.intake.models import DuplicateSuggestion
from callcenter.intake.triage import queue_for_triage
from callcenter.outbox.writer import OutboxKind, enqueue
from callcenter.reference.hours import Hours
from callcenter.reference.models import Neighbourhood
from callcenter.reference.services import get_category

_OPEN = [str(s) for s in OPEN_STATUSES]


@dataclass
class IntakeResult:
    """The request the report landed on; ``repeat_of`` when it was an open one (rule 1)."""

    request: CitizenRequest
    repeat_of: bool
    suggestions: list[DuplicateSuggestion] = field(default_factory=list)


def file_request(
    *,
    session: Session,
    phone: str | None,
    channel: RequestChannel | str,
    category_code: str,
    description: str | None = None,
    neighbourhood_code: str | None = None,
    citizen_name: str | None = None,
    recording_path: str | None = None,
    actor: str = "system",
    linkedid: str | None = None,
    needs_triage: bool = False,
    duplicate_window: timedelta = timedelta(hours=72),
    phone_verified: bool = True,
    district: int | None = None,
    calendar: Hours | None = None,
    citizen: Citizen | None = None,
) -> IntakeResult:
    """File a citizen's report from any channel, or link it to their open request.

    ``phone_verified=False`` (Open311: the caller typed a number but proved nothing)
    never lands on an existing request - that would hand a stranger its code and text
    its owner - but files a new one, with the open one suggested to agents as a repeat.

    ``citizen`` instead of ``phone``: a citizen the channel already knows (the bot's
    messenger account, which may have no phone number yet)."""
    try:
        channel = RequestChannel(channel)
    except ValueError:
        raise InvalidInput(f"unknown channel {channel!r}", channel=str(channel)) from None
    category = get_category(session=session, code=category_code)
    if neighbourhood_code and session.get(Neighbourhood, neighbourhood_code) is None:
        raise InvalidInput(f"unknown neighbourhood {neighbourhood_code!r}",
                           neighbourhood=neighbourhood_code)
    call_id = _call_id(session=session, linkedid=linkedid)
    if citizen is None:
        assert phone is not None, "file_request needs a phone or a citizen"
        citizen = get_or_create_citizen(session=session, phone=phone, name=citizen_name)
    # Rule 1 needs a known category: an untriaged SMS ("other" until an agent reads it)
    # may be about anything, so it is never folded into an earlier request.
    open_one = None if needs_triage else session.exec(
        select(CitizenRequest)
        .where(CitizenRequest.citizen_id == citizen.id)
        .where(CitizenRequest.category_code == category.code)
        .where(col(CitizenRequest.status).in_(_OPEN))
        .order_by(col(CitizenRequest.created_at).desc(), col(CitizenRequest.id).desc())
    ).first()
    if open_one is not None and phone_verified:
        open_one.updated_at = utcnow()
        session.add(open_one)
        add_event(
            session=session, request=open_one, kind="contact", actor=actor, channel=channel,
            call_id=call_id, note=description,
            data={"repeat": True, "recording_path": recording_path} if recording_path
            else {"repeat": True},
        )
        enqueue(session=session, request=open_one, kind=OutboxKind.CONTACT,
                extra={"channel": str(channel), "description": description})
        session.flush()
        return IntakeResult(request=open_one, repeat_of=True)
    request = create_request(
        session=session, phone=citizen.phone or "", channel=channel,
        category_code=category.code,
        description=description, recording_path=recording_path,
        neighbourhood_code=neighbourhood_code, citizen_name=citizen_name,
        needs_triage=needs_triage, actor=actor, call_id=call_id, citizen=citizen,
        district=district, calendar=calendar,
    )
    enqueue(session=session, request=request, kind=OutboxKind.CREATED)
    with session.no_autoflush:  # the history, outbox, triage and suggestions: one flush below
        queue_for_triage(session=session, request=request)
        suggestions = suggest_duplicates(session=session, request=request,
                                         window=duplicate_window)
    if open_one is not None:  # unverified: the same citizen's open request, for a person
        suggestions.append(DuplicateSuggestion(request_id=request.id,  # type: ignore[arg-type]
                                               original_id=open_one.id))  # type: ignore[arg-type]
        session.add(suggestions[-1])
    session.flush()
    return IntakeResult(request=request, repeat_of=False, suggestions=suggestions)


def _call_id(*, session: Session, linkedid: str | None) -> int | None:
    """The call record of a 137 call, when it is already written (it may not be yet)."""
    if not linkedid:
        return None
    call = session.exec(select(Call).where(Call.linkedid == linkedid)).first()
    return call.id if call else None


@dataclass
class TimelineEntry:
    tracking_code: str
    event: RequestEvent


def timeline(*, session: Session, citizen_id: int) -> list[TimelineEntry]:
    """Every request event of one citizen, on every channel, oldest first."""
    rows = session.exec(
        select(RequestEvent, CitizenRequest.tracking_code)
        .join(CitizenRequest, col(CitizenRequest.id) == RequestEvent.request_id)
        .where(CitizenRequest.citizen_id == citizen_id)
        .order_by(col(RequestEvent.at), col(RequestEvent.id))
    ).all()
    return [TimelineEntry(tracking_code=code, event=event) for event, code in rows]


def is_open(request: CitizenRequest) -> bool:
    return RequestStatus(request.status) in OPEN_STATUSES
