"""Requests: file, route, look up and move through their status life.

Every change writes a ``RequestEvent``; callers own the transaction (commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from callcenter.cases.deadlines import category_deadline
from callcenter.cases.exceptions import InvalidTransition, NoSuchRequest
from callcenter.cases.models import (
    OPEN_STATUSES,
    TRANSITIONS,
    CitizenRequest,
    RequestChannel,
    RequestEvent,
    RequestStatus,
)
from callcenter.cases.tracking import generate_code, is_valid_code, normalise_code
from callcenter.citizens.models import Citizen
from callcenter.citizens.services import find_citizen, get_or_create_citizen
from callcenter.clock import utcnow
from callcenter.errors import InvalidInput
from callcenter.outbox.writer import OutboxKind, enqueue
from callcenter.reference.hours import Hours
from callcenter.reference.services import get_category

_CODE_ATTEMPTS = 10


def add_event(
    *,
    session: Session,
    request: CitizenRequest,
    kind: str,
    actor: str = "system",
    note: str | None = None,
    channel: str | None = None,
    call_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> RequestEvent:
    """Append one line to a request's history (``data["linkedid"]`` also goes into the
    indexed ``linkedid`` column: the call recorder links the call through it)."""
    assert request.id is not None, "flush the request before adding events"
    linkedid = (data or {}).get("linkedid")
    event = RequestEvent(
        request_id=request.id,
        kind=kind,
        actor=actor,
        note=note,
        channel=channel,
        call_id=call_id,
        from_status=from_status,
        to_status=to_status,
        data=data,
        linkedid=str(linkedid) if linkedid else None,
    )
    session.add(event)
    return event


def create_request(
    *,
    session: Session,
    phone: str,
    channel: RequestChannel | str,
    category_code: str,
    description: str | None = None,
    recording_path: str | None = None,
    neighbourhood_code: str | None = None,
    citizen_name: str | None = None,
    needs_triage: bool = False,
    actor: str = "system",
    call_id: int | None = None,
    citizen: Citizen | None = None,
    district: int | None = None,
    calendar: Hours | None = None,
) -> CitizenRequest:
    """File a request for the citizen behind ``phone`` and refer it to its department
    (``citizen``: that citizen when the caller has already found it - not read again);
    its deadline in the category's calendar or working hours (``calendar``)."""
    try:
        channel = RequestChannel(channel)
    except ValueError:
        raise InvalidInput(f"unknown channel {channel!r}", channel=str(channel)) from None
    category = get_category(session=session, code=category_code)
    if citizen is None:
        citizen = get_or_create_citizen(session=session, phone=phone, name=citizen_name)
    now = utcnow()
    # Written already referred (``new`` -> ``referred`` is the routing's first step and
    # always allowed): one INSERT instead of an INSERT and an UPDATE; the history below
    # still shows both steps, as ``change_status`` writes them.
    request = _insert_with_unique_code(session=session, request=CitizenRequest(
        tracking_code="",
        channel=channel,
        category_code=category.code,
        department_code=category.department_code,
        neighbourhood_code=neighbourhood_code or citizen.neighbourhood_code,
        description=description,
        recording_path=recording_path,
        citizen_id=citizen.id,  # type: ignore[arg-type]
        status=RequestStatus.REFERRED,
        deadline_at=category_deadline(category=category, start=now, calendar=calendar),
        needs_triage=needs_triage,
        district=district,
        created_at=now,
        updated_at=now,
    ))
    assert RequestStatus.REFERRED in TRANSITIONS[RequestStatus.NEW]
    add_event(
        session=session, request=request, kind="created", actor=actor, channel=channel,
        call_id=call_id, to_status=RequestStatus.NEW,
    )
    add_event(
        session=session, request=request, kind="status", actor="routing",
        note=f"referred to {category.department_code}", from_status=RequestStatus.NEW,
        to_status=RequestStatus.REFERRED,
    )
    return request


def _insert_with_unique_code(*, session: Session, request: CitizenRequest) -> CitizenRequest:
    """``request`` stored under a fresh tracking code (drawn again when one is taken)."""
    for _ in range(_CODE_ATTEMPTS):
        request.tracking_code = generate_code()
        try:
            with session.begin_nested():
                session.add(request)
            return request
        except IntegrityError:
            session.expunge(request) if request in session else None
            continue
    raise RuntimeError("could not allocate a unique tracking code")


def change_status(
    *,
    session: Session,
    request: CitizenRequest,
    to_status: RequestStatus | str,
    actor: str,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    notify_crm: bool = True,
) -> CitizenRequest:
    """Move a request along its status life (``TRANSITIONS``), writing the history.

    With ``notify_crm`` the change also goes into the Shahrbin outbox in the same
    transaction; off for the filing's own referral (its "created" item covers it) and
    for changes that came *from* Shahrbin.
    """
    target = RequestStatus(to_status)
    current = RequestStatus(request.status)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"cannot go from {current} to {target}", code=request.tracking_code,
            from_status=current, to_status=target,
        )
    request.status = target
    request.updated_at = utcnow()
    request.version = (request.version or 1) + 1
    if target == RequestStatus.RESOLVED:
        request.resolved_at = request.updated_at
    session.add(request)
    add_event(
        session=session, request=request, kind="status", actor=actor, note=note,
        from_status=current, to_status=target, data=data,
    )
    if notify_crm:
        session.flush()
        enqueue(session=session, request=request, kind=OutboxKind.STATUS,
                extra={"actor": actor, "note": note})
    return request


def get_request_by_code(*, session: Session, code: str) -> CitizenRequest:
    """The request with this tracking code; ``NoSuchRequest`` if mistyped or unknown."""
    code = normalise_code(code)
    if not is_valid_code(code):
        raise NoSuchRequest("tracking code fails its check digit", code=code)
    request = session.exec(
        select(CitizenRequest).where(CitizenRequest.tracking_code == code)
    ).first()
    if request is None:
        raise NoSuchRequest("no request with this tracking code", code=code)
    return request


def requests_for_phone(
    *, session: Session, phone: str, only_open: bool = False
) -> Sequence[CitizenRequest]:
    """A citizen's requests on every channel, newest first."""
    citizen = find_citizen(session=session, phone=phone)
    if citizen is None:
        return []
    query = select(CitizenRequest).where(CitizenRequest.citizen_id == citizen.id)
    if only_open:
        query = query.where(col(CitizenRequest.status).in_([str(s) for s in OPEN_STATUSES]))
    return session.exec(
        query.order_by(col(CitizenRequest.created_at).desc(), col(CitizenRequest.id).desc())
    ).all()


def history(*, session: Session, request: CitizenRequest) -> Sequence[RequestEvent]:
    return session.exec(
        select(RequestEvent)
        .where(RequestEvent.request_id == request.id)
        .order_by(col(RequestEvent.id))
    ).all()
