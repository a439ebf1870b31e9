"""``/api/cases``: list, search (phone in any Iranian format, or tracking code), read
with history, create, change status. Thin: parse, call the service, return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, func, select

from callcenter.agent_panel.services import file_through_intake
from callcenter.attachments.schemas import AttachmentOut, attachment_out
from callcenter.attachments.services import request_attachments
from callcenter.auth.deps import DbSession, StaffUser
from callcenter.cases.models import CitizenRequest, RequestChannel, RequestEvent, RequestStatus
from callcenter.cases.services import change_status, get_request_by_code, history
from callcenter.citizens.models import Citizen
from callcenter.citizens.phone import normalise_phone
from callcenter.citizens.services import find_citizen
from callcenter.http_types import MAX_PAGE
from callcenter.intake.triage import change_status_checked


class ErrorOut(BaseModel):
    """Every error answer: a stable id, a readable message, and details."""

    error: str = Field(examples=["not-found"])
    message: str
    details: dict[str, Any] = {}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Wrong role or missing CSRF token"},
    404: {"model": ErrorOut, "description": "No such request"},
    409: {"model": ErrorOut, "description": "Status change not allowed"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=ERRORS)


class CaseOut(BaseModel):
    tracking_code: str
    channel: str
    status: str
    category_code: str
    department_code: str
    neighbourhood_code: str | None
    description: str | None
    phone: str | None
    citizen_name: str | None
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    duplicate_of_id: int | None
    reporter_count: int
    version: int
    district: int | None
    landmark: str | None
    needs_triage: bool
    triaged_at: datetime | None


PRIVATE_EVENT_KEYS = frozenset({"recording_path"})


class EventOut(BaseModel):
    at: datetime
    kind: str
    actor: str
    from_status: str | None
    to_status: str | None
    channel: str | None
    note: str | None
    data: dict[str, Any] | None

    @field_validator("data")
    @classmethod
    def _no_paths(cls, data: dict[str, Any] | None) -> dict[str, Any] | None:
        """History data kept for the store's own use (where a repeat contact's recording
        lies on the PBX) is not shown: recordings are reached by their routes only."""
        if not data:
            return data
        return {key: value for key, value in data.items() if key not in PRIVATE_EVENT_KEYS}


class CaseDetail(CaseOut):
    history: list[EventOut]
    attachments: list[AttachmentOut] = []


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    per_page: int


class CaseCreate(BaseModel):
    phone: str = Field(min_length=3, max_length=40, examples=["09131234567"])
    category_code: str = Field(max_length=40, examples=["waste"])
    channel: RequestChannel = RequestChannel.PHONE
    description: str | None = Field(default=None, max_length=4000)
    neighbourhood_code: str | None = Field(default=None, max_length=60)
    citizen_name: str | None = Field(default=None, max_length=120)
    linkedid: str | None = Field(default=None, max_length=64,
                                 description="The call this request comes from, if any")


class StatusChange(BaseModel):
    status: RequestStatus
    note: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                description="With it, a request changed since is a 409")


def _out(session: Session, request: CitizenRequest) -> CaseOut:
    citizen = session.get(Citizen, request.citizen_id)
    return CaseOut(
        tracking_code=request.tracking_code, channel=request.channel, status=request.status,
        category_code=request.category_code, department_code=request.department_code,
        neighbourhood_code=request.neighbourhood_code, description=request.description,
        phone=citizen.phone if citizen else None, citizen_name=citizen.name if citizen else None,
        created_at=request.created_at, updated_at=request.updated_at,
        deadline_at=request.deadline_at, duplicate_of_id=request.duplicate_of_id,
        reporter_count=request.reporter_count, version=request.version,
        district=request.district, landmark=request.landmark,
        needs_triage=request.needs_triage, triaged_at=request.triaged_at,
    )


def _detail(session: Session, request: CitizenRequest) -> CaseDetail:
    events: list[RequestEvent] = list(history(session=session, request=request))
    assert request.id is not None
    return CaseDetail(
        **_out(session, request).model_dump(),
        history=[EventOut.model_validate(e, from_attributes=True) for e in events],
        attachments=[attachment_out(request.tracking_code, a)
                     for a in request_attachments(session=session, request_id=request.id)],
    )


@router.get("", response_model=CasePage, summary="List or search requests")
def list_cases(
    _user: StaffUser,
    session: DbSession,
    phone: Annotated[str | None, Query(description="Any Iranian format: 0913…, +98913…")] = None,
    code: Annotated[str | None, Query(description="Tracking code")] = None,
    status: RequestStatus | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """Newest first; ``phone`` and ``code`` narrow the list (an unknown one gives none)."""
    query = select(CitizenRequest)
    if code:
        query = query.where(CitizenRequest.id == get_request_by_code(session=session,
                                                                      code=code).id)
    if phone:
        citizen = find_citizen(session=session, phone=normalise_phone(phone))
        query = query.where(CitizenRequest.citizen_id == (citizen.id if citizen else -1))
    if status:
        query = query.where(CitizenRequest.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CitizenRequest.created_at).desc(), col(CitizenRequest.id).desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return CasePage(items=[_out(session, r) for r in rows], total=total, page=page,
                    per_page=per_page)


@router.get("/{code}", response_model=CaseDetail, summary="Read a request with its history")
def read_case(code: str, _user: StaffUser, session: DbSession) -> CaseDetail:
    return _detail(session, get_request_by_code(session=session, code=code))


@router.post("", response_model=CaseDetail, status_code=201, summary="File a request")
def create_case(body: CaseCreate, user: StaffUser, session: DbSession) -> CaseDetail:
    """Files through the intake rules (a repeat of an open request is linked to it)."""
    request, _created = file_through_intake(
        session=session, actor=user.username, phone=body.phone, channel=body.channel,
        category_code=body.category_code, neighbourhood_code=body.neighbourhood_code,
        description=body.description, citizen_name=body.citizen_name, linkedid=body.linkedid,
    )
    session.flush()
    return _detail(session, request)


@router.post("/{code}/status", response_model=CaseDetail, summary="Change a request's status")
def update_status(code: str, body: StatusChange, user: StaffUser,
                  session: DbSession) -> CaseDetail:
    request = get_request_by_code(session=session, code=code)
    if body.version is not None:
        change_status_checked(session=session, request=request, version=body.version,
                              to_status=body.status, actor=user.username, note=body.note)
    else:
        change_status(session=session, request=request, to_status=body.status,
                      actor=user.username, note=body.note)
    session.flush()
    return _detail(session, request)
