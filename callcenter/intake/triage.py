"""Triage and edits: requests that lack what routing and reports need, and the one form
that completes them.

A request needs triage when it is flagged (``needs_triage``: an SMS no keyword
classified), or it came by voice without a neighbourhood or any text: filing puts a
follow-up task of kind ``triage`` on the agents' list (one per request). An agent's
edit (triage form or case page) sets category, neighbourhood, landmark and description
in one go: a changed category re-routes (department and deadline recomputed, a
``rerouted`` event), every edit is an ``edited`` event and a ``request_updated`` outbox
item for Shahrbin, and the triage task is closed with the triage time stored.

Every edit names the ``version`` it was made on; a request changed meanwhile answers
``StaleVersion`` (409) and nothing is written. The check is one conditional UPDATE, so
two concurrent saves cannot both pass it (on PostgreSQL the second waits on the row
lock, then finds the version moved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest, RequestChannel, RequestStatus
from callcenter.cases.services import add_event, change_status
from callcenter.clock import utcnow
from callcenter.errors import Conflict, InvalidInput
from callcenter.followups.models import Task, TaskKind, TaskState
from callcenter.followups.services import create_task
from callcenter.outbox.writer import OutboxKind, enqueue
from callcenter.reference.models import Category, Neighbourhood

MAX_LANDMARK = 300
MAX_DESCRIPTION = 4000
_OPEN_TASK = [TaskState.PENDING, TaskState.CLAIMED, TaskState.WAITING]


class StaleVersion(Conflict):
    """The request changed since the form was loaded: reload, then save again."""

    error_id = "stale-version"


def lacks_routing(request: CitizenRequest) -> bool:
    """Whether routing and reports miss something only a person can add."""
    if request.needs_triage:
        return True
    voice = request.channel == RequestChannel.PHONE and request.recording_path is not None
    return voice and (request.neighbourhood_code is None or not request.description)


def queue_for_triage(*, session: Session, request: CitizenRequest) -> Task | None:
    """The request's triage task (made once; ``None`` when it lacks nothing)."""
    if not lacks_routing(request):
        return None
    existing = open_triage_task(session=session, request_id=request.id)  # type: ignore[arg-type]
    if existing is not None:
        return existing
    task = create_task(session=session, kind=TaskKind.TRIAGE, request_id=request.id,
                       citizen_id=request.citizen_id, due_at=request.created_at)
    task.dedupe_key = f"triage:{request.id}"
    session.add(task)
    return task


def open_triage_task(*, session: Session, request_id: int) -> Task | None:
    return session.exec(
        select(Task).where(Task.request_id == request_id).where(Task.kind == TaskKind.TRIAGE)
        .where(col(Task.state).in_(_OPEN_TASK))
    ).first()


def claim_version(*, session: Session, request: CitizenRequest, version: int) -> None:
    """Move the request from ``version`` to the next, or raise ``StaleVersion``."""
    moved = session.execute(
        update(CitizenRequest)
        .where(col(CitizenRequest.id) == request.id)
        .where(col(CitizenRequest.version) == version)
        .values(version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(request)
        raise StaleVersion("the request was changed meanwhile; reload it and save again",
                           code=request.tracking_code, version=version,
                           current_version=request.version)
    session.refresh(request)


@dataclass
class Edit:
    """What the form sends; ``None`` keeps a field, ``""`` clears an optional one."""

    version: int
    category_code: str | None = None
    neighbourhood_code: str | None = None
    landmark: str | None = None
    description: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


def _validate(session: Session, edit: Edit) -> tuple[Category | None, str | None]:
    category = None
    if edit.category_code is not None:
        category = session.get(Category, edit.category_code)
        if category is None:
            raise InvalidInput(f"unknown category {edit.category_code!r}",
                               category=edit.category_code)
    hood = edit.neighbourhood_code or None
    if hood is not None and session.get(Neighbourhood, hood) is None:
        raise InvalidInput(f"unknown neighbourhood {hood!r}", neighbourhood=hood)
    if edit.landmark is not None and len(edit.landmark) > MAX_LANDMARK:
        raise InvalidInput("landmark too long", max=MAX_LANDMARK)
    if edit.description is not None and len(edit.description) > MAX_DESCRIPTION:
        raise InvalidInput("description too long", max=MAX_DESCRIPTION)
    return category, hood


def edit_request(*, session: Session, request: CitizenRequest, edit: Edit, actor: str,
                 triage: bool = False) -> dict[str, Any]:
    """Apply an agent's edit (``triage`` also completes triage); returns the changes."""
    category, hood = _validate(session, edit)
    claim_version(session=session, request=request, version=edit.version)
    now = utcnow()
    changes: dict[str, Any] = {}
    if category is not None and category.code != request.category_code:
        changes.update(_reroute(session, request, category, actor=actor, now=now))
    if edit.neighbourhood_code is not None and hood != request.neighbourhood_code:
        changes["neighbourhood_code"] = [request.neighbourhood_code, hood]
        request.neighbourhood_code = hood
    for name in ("landmark", "description"):
        value = getattr(edit, name)
        if value is not None and (value.strip() or None) != getattr(request, name):
            changes[name] = [getattr(request, name), value.strip() or None]
            setattr(request, name, value.strip() or None)
    if triage:
        _finish_triage(session, request, actor=actor, now=now)
        changes["triaged"] = True
    request.updated_at = now
    session.add(request)
    if changes:
        add_event(session=session, request=request, kind="edited", actor=actor,
                  data={"changes": changes})
        session.flush()
        enqueue(session=session, request=request, kind=OutboxKind.UPDATED,
                extra={"actor": actor, "changes": sorted(changes)})
    session.flush()
    return changes


def _reroute(session: Session, request: CitizenRequest, category: Category, *, actor: str,
             now: Any) -> dict[str, Any]:
    """A new category: its department, and its deadline counted from now (the new
    department has had the request for no time at all)."""
    before = {"category": request.category_code, "department": request.department_code}
    request.category_code = category.code
    request.department_code = category.department_code
    request.deadline_at = now + timedelta(hours=category.deadline_hours)
    add_event(session=session, request=request, kind="rerouted", actor=actor,
              note=f"referred to {category.department_code}",
              data={"from": before, "to": {"category": category.code,
                                           "department": category.department_code},
                    "deadline_at": request.deadline_at.isoformat()})
    return {"category_code": [before["category"], category.code],
            "department_code": [before["department"], category.department_code]}


def _finish_triage(session: Session, request: CitizenRequest, *, actor: str, now: Any) -> None:
    request.needs_triage = False
    if request.triaged_at is None:
        request.triaged_at = now
    task = open_triage_task(session=session, request_id=request.id)  # type: ignore[arg-type]
    if task is not None:
        seconds = (now - request.created_at).total_seconds()
        task.state, task.updated_at = TaskState.DONE, now
        task.result = {**(task.result or {}), "closed_by": actor, "triage_seconds": seconds}
        session.add(task)


def change_status_checked(*, session: Session, request: CitizenRequest, version: int,
                          to_status: RequestStatus | str, actor: str,
                          note: str | None = None) -> CitizenRequest:
    """A status move from the case page, made against ``version``."""
    claim_version(session=session, request=request, version=version)
    return change_status(session=session, request=request, to_status=to_status, actor=actor,
                         note=note)


def add_note(*, session: Session, request: CitizenRequest, actor: str, note: str) -> None:
    """An agent's note on the timeline: it overwrites nothing, so it needs no version
    (and no Shahrbin item: notes are internal)."""
    text = note.strip()
    if not text or len(text) > MAX_DESCRIPTION:
        raise InvalidInput("a note needs 1 to 4000 characters")
    add_event(session=session, request=request, kind="note", actor=actor, note=text)
    session.flush()
