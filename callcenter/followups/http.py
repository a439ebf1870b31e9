"""Thin routes for the follow-up list's actions (the list itself and reassigning are the
agent panel's ``/api/tasks``): click-to-call, manual survey answers, close a task."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from callcenter.auth.deps import AgentUser, DbSession
from callcenter.auth.services import SignedInUser
from callcenter.deps import AppServices
from callcenter.followups.config import policy_from_settings
from callcenter.followups.manual import click_to_call
from callcenter.followups.services import complete_task, record_manual_survey
from callcenter.http_types import RowIdPath

router = APIRouter(prefix="/api/followups", tags=["follow-ups"])


class SurveyIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    fixed: bool | None = None


class CompleteIn(BaseModel):
    outcome: Literal["done", "cancelled"] = "done"
    note: str | None = Field(default=None, max_length=500)


def acting(user: SignedInUser) -> int | None:
    """Whose tasks the user may act on: an agent their own (and unassigned), a
    supervisor or admin every one (``None``)."""
    return None if user.is_supervisor else user.id


@router.post("/{task_id}/call")
async def call_task(task_id: RowIdPath, services: AppServices, user: AgentUser
                    ) -> dict[str, object]:
    """Ring the agent's phone, then the citizen of this task."""
    placed = await click_to_call(
        engine=services.engine, actions=services.ami_actions,
        policy=policy_from_settings(services.settings, holidays=services.calendar.holidays
                                    if services.calendar else None), task_id=task_id,
        extension=user.extension, user_id=user.id,
        context=services.settings.outbound_context, acting_user_id=acting(user))
    return {"task_id": placed.task_id, "agent": placed.agent, "uniqueid": placed.uniqueid}


@router.post("/{task_id}/survey")
def enter_survey(task_id: RowIdPath, body: SurveyIn, user: AgentUser, session: DbSession
                 ) -> dict[str, object]:
    """Answers the citizen gave on an agent's survey call; closes or reopens the request."""
    status = record_manual_survey(session=session, task_id=task_id, rating=body.rating,
                                  fixed=body.fixed, actor=user.username,
                                  acting_user_id=acting(user))
    return {"task_id": task_id, "request_status": status}


@router.post("/{task_id}/complete")
def close_task(task_id: RowIdPath, body: CompleteIn, user: AgentUser, session: DbSession
               ) -> dict[str, object]:
    task = complete_task(session=session, task_id=task_id, actor=user.username,
                         outcome=body.outcome, note=body.note, acting_user_id=acting(user))
    return {"task_id": task_id, "state": task.state}
