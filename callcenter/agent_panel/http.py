"""``/agent`` page, ``/agent/ws`` pushes and the panel's JSON actions (thin)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from callcenter.agent_panel import queue, services, tasks
from callcenter.agent_panel.schemas import (
    BreakIn,
    PopRequestIn,
    RequestSaved,
    TaskAssignIn,
    TaskOut,
    WalkInIn,
)
from callcenter.auth.deps import (
    WS_FORBIDDEN,
    AgentSocketUser,
    AgentUser,
    DbSession,
    StaffUser,
    SupervisorUser,
    hold_socket,
)
from callcenter.deps import AppServices
from callcenter.followups.events import announce
from callcenter.http_types import RowIdPath
from callcenter.web.templating import render

router = APIRouter(tags=["agent panel"])


@router.get("/agent", response_class=HTMLResponse, include_in_schema=False)
def agent_page(request: Request, app: AppServices, user: AgentUser, session: DbSession
               ) -> HTMLResponse:
    presence = app.panel_hub.board.get(user.extension) if user.extension else None
    return render(request, "agent.html", {
        "user": user,
        "presence": presence,
        "tasks": tasks.task_rows(session=session, user=user),
        "boot": {
            "extension": user.extension,
            "timezone": app.settings.timezone,
            "state": presence.as_dict() if presence else None,
            **services.reference_lists(session=session),
        },
        **services.reference_lists(session=session),
    })


@router.websocket("/agent/ws")
async def agent_socket(websocket: WebSocket, app: AppServices, user: AgentSocketUser,
                       extension: str | None = None,
                       since: Annotated[int | None, Query(ge=0)] = None) -> None:
    """Pops and state of one extension: the agent's own; supervisors may watch any.
    ``since``: the last bus event id the panel saw (a reconnect): the pops missed since
    are sent again (several instances, issue 19)."""
    target = extension or user.extension
    if not target or (target != user.extension and not user.is_supervisor):
        await websocket.close(code=WS_FORBIDDEN, reason="not your extension")
        return
    hub = app.panel_hub
    await websocket.accept()
    hub.attach(target, websocket)
    try:
        state: dict[str, Any] = {"type": "state", **hub.board.get(target).as_dict()}
        if app.bus is not None:  # what this socket has seen: sent back on a reconnect
            state["event_id"] = max(app.bus.last_id, since or 0)
        await websocket.send_json(state)
        replayed = await hub.replay(target)
        await hub.resume(target, since, replayed=replayed)
        await hold_socket(websocket, user)  # until the close, or the session ends
    except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
        pass
    finally:
        hub.detach(target, websocket)


async def _queue_action(app: AppServices, user: Any, action: str, reason: str = "") -> dict[
        str, str]:
    state = await queue.change_queue_state(
        actions=app.ami_actions, queue_name=app.settings.queue_name,
        board=app.panel_hub.board, extension=user.extension,
        action=action, member_name=user.display_name, reason=reason,
    )
    return {"state": state.value}


@router.post("/api/agent/queue/join")
async def join_queue(app: AppServices, user: AgentUser) -> dict[str, str]:
    """QueueAdd this agent's extension to the 137 queue."""
    return await _queue_action(app, user, "join")


@router.post("/api/agent/queue/leave")
async def leave_queue(app: AppServices, user: AgentUser) -> dict[str, str]:
    """QueueRemove this agent's extension."""
    return await _queue_action(app, user, "leave")


@router.post("/api/agent/break")
async def take_break(app: AppServices, user: AgentUser, body: BreakIn) -> dict[str, str]:
    """QueuePause with a reason."""
    return await _queue_action(app, user, "pause", body.reason)


@router.post("/api/agent/resume")
async def resume(app: AppServices, user: AgentUser) -> dict[str, str]:
    """QueuePause off: back to available."""
    return await _queue_action(app, user, "resume")


@router.post("/api/agent/ready")
async def ready(app: AppServices, user: AgentUser) -> dict[str, str]:
    """Finish wrap-up."""
    return await _queue_action(app, user, "ready")


@router.post("/api/agent/requests", response_model=RequestSaved)
def save_from_pop(app: AppServices, user: AgentUser, session: DbSession, body: PopRequestIn
                  ) -> RequestSaved:
    """File a request from the pop, or update one, linked to the call's linkedid."""
    request, created = services.save_from_pop(
        session=session, actor=user.username, calendar=app.calendar, **body.model_dump())
    return RequestSaved(tracking_code=request.tracking_code, status=request.status,
                        department_code=request.department_code, created=created)


@router.post("/api/agent/walk-in", response_model=RequestSaved)
def walk_in(app: AppServices, user: StaffUser, session: DbSession, body: WalkInIn
            ) -> RequestSaved:
    """File a walk-in request (channel ``walk_in``)."""
    request, created = services.file_walk_in(
        session=session, actor=user.username, calendar=app.calendar, **body.model_dump())
    return RequestSaved(tracking_code=request.tracking_code, status=request.status,
                        department_code=request.department_code, created=created)


@router.get("/api/tasks", response_model=list[TaskOut])
def list_tasks(user: StaffUser, session: DbSession) -> list[TaskOut]:
    """Open follow-ups: an agent's own and unassigned ones; supervisors see all."""
    return tasks.task_rows(session=session, user=user)


@router.post("/api/tasks/{task_id}/assign", response_model=TaskOut)
def assign_task(task_id: RowIdPath, user: SupervisorUser, session: DbSession,
                      body: TaskAssignIn, app: AppServices, background: BackgroundTasks
                      ) -> TaskOut:
    """Reassign a follow-up to another staff member (or to nobody); every list hears."""
    out = tasks.assign(session=session, task_id=task_id, user_id=body.user_id,
                       actor=user.username, actor_name=user.display_name)
    announce(background, app.notifier, task_id, out.kind, "assign")
    return out
