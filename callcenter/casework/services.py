"""What the case page, the case search and the triage view show (read only: the edits
are ``intake.triage``'s)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from callcenter.auth.services import SignedInUser
from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.models import TRANSITIONS, CitizenRequest, RequestStatus
from callcenter.cases.services import get_request_by_code
from callcenter.cases.tracking import CODE_LENGTH, is_valid_code, normalise_code
from callcenter.casework.timeline import Entry, build_timeline, citizen_requests
from callcenter.citizens.models import Citizen
from callcenter.citizens.phone import InvalidPhone
from callcenter.citizens.services import find_citizen
from callcenter.followups.models import TaskKind
from callcenter.followups.services import open_tasks
from callcenter.intake.models import DuplicateSuggestion, SuggestionState
from callcenter.reference.models import Category, Department, Neighbourhood

RECORDING_ROUTE = "/api/requests/{code}/recording"
"""Served by the recording capability (authenticated, HTTP Range); the players point here."""
MAX_TRIAGE_ITEMS = 100


def recording_url(request: CitizenRequest) -> str | None:
    return RECORDING_ROUTE.format(code=request.tracking_code) if request.recording_path else None


@dataclass
class Names:
    category: Category | None
    department: Department | None
    neighbourhood: Neighbourhood | None


def names_of(session: Session, request: CitizenRequest) -> Names:
    return Names(
        category=session.get(Category, request.category_code),
        department=session.get(Department, request.department_code),
        neighbourhood=session.get(Neighbourhood, request.neighbourhood_code)
        if request.neighbourhood_code else None,
    )


@dataclass
class Suggestion:
    id: int
    other_code: str
    this_is_newer: bool
    confirmed: bool = False


@dataclass
class CaseView:
    request: CitizenRequest
    citizen: Citizen | None
    names: Names
    moves: list[str]
    timeline: list[Entry]
    others: list[CitizenRequest]
    suggestions: list[Suggestion] = field(default_factory=list)
    recording_url: str | None = None


def case_view(*, session: Session, code: str) -> CaseView:
    request = get_request_by_code(session=session, code=code)
    citizen = session.get(Citizen, request.citizen_id)
    requests = citizen_requests(session=session, citizen_id=request.citizen_id)
    if request not in requests:
        requests.append(request)
    timeline = build_timeline(session=session, citizen=citizen, requests=requests
                              ) if citizen else []
    return CaseView(
        request=request, citizen=citizen, names=names_of(session, request),
        moves=sorted(str(s) for s in TRANSITIONS[RequestStatus(request.status)]),
        timeline=timeline, others=[r for r in requests if r.id != request.id],
        suggestions=_suggestions(session, request), recording_url=recording_url(request),
    )


def _suggestions(session: Session, request: CitizenRequest) -> list[Suggestion]:
    rows = session.exec(
        select(DuplicateSuggestion)
        .where(or_(col(DuplicateSuggestion.request_id) == request.id,
                   col(DuplicateSuggestion.original_id) == request.id))
        .where(col(DuplicateSuggestion.state).in_([SuggestionState.SUGGESTED,
                                                   SuggestionState.CONFIRMED]))
    ).all()
    out = []
    for row in rows:
        newer = row.request_id == request.id
        other = session.get(CitizenRequest, row.original_id if newer else row.request_id)
        if other is not None and row.id is not None:
            out.append(Suggestion(id=row.id, other_code=other.tracking_code,
                                  this_is_newer=newer,
                                  confirmed=row.state == SuggestionState.CONFIRMED))
    return out


@dataclass
class SearchResult:
    code: str | None = None
    phone: str | None = None
    requests: list[CitizenRequest] = field(default_factory=list)
    error: str | None = None


def search(*, session: Session, text: str) -> SearchResult:
    """A tracking code (its page), else a phone number in any format (its requests)."""
    digits = normalise_code(text)
    if len(digits) == CODE_LENGTH and is_valid_code(digits):
        try:
            return SearchResult(code=get_request_by_code(session=session, code=digits)
                                .tracking_code)
        except NoSuchRequest:
            pass
    try:
        citizen = find_citizen(session=session, phone=text)
    except InvalidPhone:
        return SearchResult(error="not_found")
    if citizen is None or citizen.id is None:
        return SearchResult(error="not_found")
    return SearchResult(phone=citizen.phone,
                        requests=citizen_requests(session=session, citizen_id=citizen.id))


@dataclass
class TriageItem:
    task_id: int
    request: CitizenRequest
    names: Names
    phone: str | None
    recording_url: str | None
    sms_text: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def triage_items(*, session: Session, user: SignedInUser) -> list[TriageItem]:
    """Open triage tasks (an agent's own and unassigned; a supervisor's every one),
    oldest first."""
    tasks = open_tasks(session=session, kinds=[TaskKind.TRIAGE], limit=MAX_TRIAGE_ITEMS,
                       assigned_user_id=None if user.is_supervisor else user.id)
    items = []
    for task in tasks:
        request = session.get(CitizenRequest, task.request_id) if task.request_id else None
        if request is None or task.id is None:
            continue
        citizen = session.get(Citizen, request.citizen_id)
        items.append(TriageItem(
            task_id=task.id, request=request, names=names_of(session, request),
            phone=citizen.phone if citizen else None, recording_url=recording_url(request),
            sms_text=request.description if request.channel == "sms" else None,
        ))
    return items
