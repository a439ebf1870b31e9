"""``/supervisor`` page, ``/supervisor/ws`` pushes and the supervisor's JSON (thin)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from callcenter.agent_panel.tasks import task_rows
from callcenter.auth.deps import DbSession, SupervisorSocketUser, SupervisorUser
from callcenter.db.engine import session_scope
from callcenter.deps import AppServices
from callcenter.supervisor import services
from callcenter.supervisor.schemas import CallbackIn, CallbackOut
from callcenter.web.templating import render

router = APIRouter(tags=["supervisor"])


@router.get("/supervisor", response_class=HTMLResponse, include_in_schema=False)
async def supervisor_page(request: Request, app: AppServices, user: SupervisorUser
                          ) -> HTMLResponse:
    hub = app.supervisor_hub
    stats = await hub.refresh_stats()

    def follow_ups() -> tuple[list[Any], list[dict[str, Any]]]:
        with session_scope(app.engine) as session:
            return (task_rows(session=session, user=user),
                    services.assignable_staff(session=session))

    tasks, staff = await asyncio.to_thread(follow_ups)
    return render(request, "supervisor.html", {
        "user": user, "live": hub.picture(), "stats": stats, "tasks": tasks, "staff": staff,
        "boot": {"timezone": app.settings.timezone,
                 "threshold": app.settings.service_level_seconds},
    })


@router.websocket("/supervisor/ws")
async def supervisor_socket(websocket: WebSocket, app: AppServices,
                            _user: SupervisorSocketUser) -> None:
    hub = app.supervisor_hub
    await websocket.accept()
    try:
        await hub.attach(websocket)
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
        pass
    finally:
        hub.detach(websocket)


@router.get("/api/supervisor/live")
async def live(app: AppServices, _user: SupervisorUser) -> dict[str, Any]:
    """The live picture (the same JSON the websocket pushes)."""
    return app.supervisor_hub.picture()


@router.get("/api/supervisor/today")
async def today(app: AppServices, _user: SupervisorUser) -> dict[str, Any]:
    """Today's figures, abandoned calls and the backlog per department."""
    return await app.supervisor_hub.refresh_stats()


@router.post("/api/supervisor/callbacks", response_model=CallbackOut, status_code=201)
def call_back(user: SupervisorUser, session: DbSession, body: CallbackIn) -> CallbackOut:
    """Put a callback for an abandoned call on the follow-up list."""
    task = services.callback_for_call(session=session, linkedid=body.linkedid,
                                      actor=user.username,
                                      assigned_user_id=body.assigned_user_id)
    assert task.id is not None
    return CallbackOut(task_id=task.id, linkedid=body.linkedid, state=task.state)
