"""Supervisor actions: call an abandoned caller back (a callback task on the list)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.citizens.phone import normalise_phone
from callcenter.citizens.services import get_or_create_citizen
from callcenter.errors import Conflict, DomainError, NotFound
from callcenter.followups.models import Task, TaskKind, TaskState
from callcenter.followups.services import create_task
from callcenter.users.models import Role, User


def callback_for_call(*, session: Session, linkedid: str, actor: str,
                      assigned_user_id: int | None = None) -> Task:
    """A callback task for the caller of call ``linkedid`` (once per call)."""
    call = session.exec(select(Call).where(Call.linkedid == linkedid)).first()
    if call is None:
        raise NotFound("no such call", linkedid=linkedid)
    existing = session.exec(
        select(Task).where(Task.call_linkedid == linkedid, Task.kind == TaskKind.CALLBACK,
                           Task.state != TaskState.CANCELLED)
    ).first()
    if existing is not None:
        raise Conflict("a callback for this call is already on the list", linkedid=linkedid,
                       task_id=existing.id)
    citizen_id = call.citizen_id
    if citizen_id is None and call.caller:
        try:
            citizen_id = get_or_create_citizen(
                session=session, phone=normalise_phone(call.caller)).id
        except DomainError:
            citizen_id = None
    return create_task(session=session, kind=TaskKind.CALLBACK, citizen_id=citizen_id,
                       call_linkedid=linkedid, assigned_user_id=assigned_user_id,
                       note=f"call back after abandoned call (by {actor})")


def assignable_staff(*, session: Session) -> list[dict[str, Any]]:
    """Active agents a follow-up can be given to (id, name, extension)."""
    agents = session.exec(select(User).where(User.role == Role.AGENT, col(User.active).is_(True))
                          .order_by(col(User.extension))).all()
    return [{"id": u.id, "name": u.full_name or u.username, "extension": u.extension}
            for u in agents]
