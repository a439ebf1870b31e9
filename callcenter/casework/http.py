"""The case page ``/cases/{code}``, case search ``/cases``, the triage view ``/triage``
and their JSON actions (edit with re-routing, note). Agents, supervisors and admins;
managers never (phone numbers). Thin: parse, call the service, return."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from callcenter.agent_panel.services import reference_lists
from callcenter.auth.deps import DbSession, StaffUser
from callcenter.cases.services import get_request_by_code
from callcenter.casework import services
from callcenter.deps import AppServices
from callcenter.intake.triage import Edit, add_note, edit_request
from callcenter.reference.models import Department
from callcenter.web.templating import render

router = APIRouter(tags=["case page"])


class EditIn(BaseModel):
    """One form: ``None`` keeps a field, ``""`` clears neighbourhood/landmark/description."""

    version: int = Field(ge=1, le=2**31 - 1, description="The version the form was loaded at")
    category_code: str | None = Field(default=None, max_length=40)
    neighbourhood_code: str | None = Field(default=None, max_length=60)
    landmark: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=4000)
    triage: bool = Field(default=False, description="Also completes the request's triage")


class EditOut(BaseModel):
    tracking_code: str
    version: int
    category_code: str
    department_code: str
    department_fa: str
    department_en: str
    neighbourhood_code: str | None
    deadline_at: str | None
    changes: list[str]


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=4000)


def _page_context(app: AppServices, session: Any, user: Any) -> dict[str, Any]:
    return {"user": user, "boot": {"timezone": app.settings.timezone},
            **reference_lists(session=session)}


@router.get("/cases", response_class=HTMLResponse, include_in_schema=False)
def case_search(request: Request, app: AppServices, user: StaffUser, session: DbSession,
                q: Annotated[str, Query(max_length=40)] = "") -> Response:
    """A tracking code opens its page; a phone (any format) lists the citizen's requests."""
    found = services.search(session=session, text=q) if q.strip() else None
    if found is not None and found.code is not None:
        return RedirectResponse(f"/cases/{found.code}", status_code=303)
    return render(request, "case_search.html", {**_page_context(app, session, user),
                                                "q": q, "found": found})


@router.get("/cases/{code}", response_class=HTMLResponse, include_in_schema=False)
def case_page(code: str, request: Request, app: AppServices, user: StaffUser,
              session: DbSession) -> HTMLResponse:
    case = services.case_view(session=session, code=code)
    return render(request, "case.html", {**_page_context(app, session, user), "case": case})


@router.get("/triage", response_class=HTMLResponse, include_in_schema=False)
def triage_page(request: Request, app: AppServices, user: StaffUser,
                session: DbSession) -> HTMLResponse:
    items = services.triage_items(session=session, user=user)
    return render(request, "triage.html", {**_page_context(app, session, user),
                                           "items": items})


@router.post("/api/cases/{code}/edit", response_model=EditOut, tags=["cases"],
             summary="Edit category, neighbourhood, landmark, description (re-routes)",
             responses={409: {"description": "The request changed since `version`"},
                        422: {"description": "Unknown category or neighbourhood"}})
def edit_case(code: str, body: EditIn, user: StaffUser, session: DbSession) -> EditOut:
    request = get_request_by_code(session=session, code=code)
    changes = edit_request(session=session, request=request, actor=user.username,
                           triage=body.triage, edit=Edit(
                               version=body.version, category_code=body.category_code,
                               neighbourhood_code=body.neighbourhood_code,
                               landmark=body.landmark, description=body.description))
    department = session.get(Department, request.department_code)
    return EditOut(tracking_code=request.tracking_code, version=request.version,
                   category_code=request.category_code,
                   department_code=request.department_code,
                   department_fa=department.name_fa if department else request.department_code,
                   department_en=department.name_en if department else request.department_code,
                   neighbourhood_code=request.neighbourhood_code,
                   deadline_at=request.deadline_at.isoformat() if request.deadline_at else None,
                   changes=sorted(changes))


@router.post("/api/cases/{code}/notes", status_code=201, tags=["cases"],
             summary="Add a note to a request's timeline")
def note_case(code: str, body: NoteIn, user: StaffUser, session: DbSession) -> dict[str, str]:
    request = get_request_by_code(session=session, code=code)
    add_note(session=session, request=request, actor=user.username, note=body.note)
    return {"tracking_code": request.tracking_code}
