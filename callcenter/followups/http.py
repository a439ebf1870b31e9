"""Thin routes for the follow-up list's actions (the list itself and reassigning are the
agent panel's ``/api/tasks``): click-to-call, the survey call, manual survey answers,
done with an outcome, snooze. Each action is in the request's history with the agent's
name, and every open list hears of it (``events.TasksChanged`` after the commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, Field

from callcenter.auth.deps import AgentUser, DbSession
from callcenter.auth.services import SignedInUser
from callcenter.cases.services import get_request_by_code
from callcenter.deps import AppServices
from callcenter.followups.config import policy_from_settings
from callcenter.followups.events import announce
from callcenter.followups.manual import click_to_call
from callcenter.followups.services import (
    complete_task,
    opt_out_request_citizen,
    record_manual_survey,
    snooze_task,
)
from callcenter.http_types import RowIdPath

router = APIRouter(prefix="/api/followups", tags=["follow-ups"])


class SurveyIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    fixed: bool | None = None


class CompleteIn(BaseModel):
    outcome: Literal["reached", "not_reached", "wrong_number", "resolved", "done",
                     "cancelled"] = "done"
    note: str | None = Field(default=None, max_length=500)


class SnoozeIn(BaseModel):
    until: datetime


class CallIn(BaseModel):
    purpose: Literal["call", "survey"] = "call"


def acting(user: SignedInUser) -> int | None:
    """Whose tasks the user may act on: an agent their own (and unassigned), a
    supervisor or admin every one (``None``)."""
    return None if user.is_supervisor else user.id


@router.post("/{task_id}/call")
async def call_task(task_id: RowIdPath, services: AppServices, user: AgentUser,
                    background: BackgroundTasks, body: CallIn | None = None
                    ) -> dict[str, object]:
    """Ring the agent's phone, then the citizen of this task (``purpose`` survey: the
    agent asks the survey questions and types the answers)."""
    calendar = services.calendar
    placed = await click_to_call(
        engine=services.engine, actions=services.ami_actions,
        policy=policy_from_settings(services.settings,
                                    holidays=calendar.holidays if calendar else None),
        task_id=task_id, extension=user.extension, user_id=user.id,
        context=services.settings.outbound_context, acting_user_id=acting(user),
        actor=user.username, actor_name=user.display_name,
        purpose=body.purpose if body else "call")
    announce(background, services.notifier, task_id, "", "call")
    return {"task_id": placed.task_id, "agent": placed.agent, "uniqueid": placed.uniqueid}


@router.post("/{task_id}/survey")
def enter_survey(task_id: RowIdPath, body: SurveyIn, user: AgentUser, session: DbSession,
                 services: AppServices, background: BackgroundTasks) -> dict[str, object]:
    """Answers the citizen gave on an agent's survey call; closes or reopens the request."""
    status = record_manual_survey(session=session, task_id=task_id, rating=body.rating,
                                  fixed=body.fixed, actor=user.username,
                                  acting_user_id=acting(user))
    announce(background, services.notifier, task_id, "", "survey")
    return {"task_id": task_id, "request_status": status}


@router.post("/{task_id}/complete")
def close_task(task_id: RowIdPath, body: CompleteIn, user: AgentUser, session: DbSession,
               services: AppServices, background: BackgroundTasks) -> dict[str, object]:
    task = complete_task(session=session, task_id=task_id, actor=user.username,
                         outcome=body.outcome, note=body.note, acting_user_id=acting(user),
                         actor_name=user.display_name)
    announce(background, services.notifier, task_id, task.kind, body.outcome)
    return {"task_id": task_id, "state": task.state, "outcome": body.outcome}


@router.post("/{task_id}/snooze")
def snooze(task_id: RowIdPath, body: SnoozeIn, user: AgentUser, session: DbSession,
           services: AppServices, background: BackgroundTasks) -> dict[str, object]:
    task = snooze_task(session=session, task_id=task_id, until=body.until,
                       actor=user.username, acting_user_id=acting(user),
                       actor_name=user.display_name)
    announce(background, services.notifier, task_id, task.kind, "snooze")
    return {"task_id": task_id, "state": task.state, "due_at": body.until.isoformat()}


class OptOutIn(BaseModel):
    tracking_code: str = Field(min_length=1, max_length=20)


@router.post("/opt-out")
def opt_out(body: OptOutIn, user: AgentUser, session: DbSession) -> dict[str, object]:
    """An agent on the case opts the citizen out of follow-ups (they asked on a call)."""
    request = get_request_by_code(session=session, code=body.tracking_code)
    opt_out_request_citizen(session=session, request=request, actor=user.username,
                            channel="agent", actor_name=user.display_name)
    return {"tracking_code": request.tracking_code, "opted_out": True}
