"""``/supervisor`` page, ``/supervisor/ws`` pushes and the supervisor's JSON (thin)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from callcenter.agent_panel.tasks import task_rows
from callcenter.auth.deps import DbSession, SupervisorSocketUser, SupervisorUser, hold_socket
from callcenter.db.engine import session_scope
from callcenter.supervisor import services
from callcenter.supervisor.hub import HUB_KEY, supervisor_hub
from callcenter.supervisor.schemas import CallbackIn, CallbackOut
from callcenter.web.templating import render


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    supervisor_hub(app.state.container).start()
    yield
    hub = app.state.container.extras.pop(HUB_KEY, None)
    if hub is not None:
        await hub.stop()


router = APIRouter(tags=["supervisor"], lifespan=lifespan)


@router.get("/supervisor", response_class=HTMLResponse, include_in_schema=False)
async def supervisor_page(request: Request, user: SupervisorUser) -> HTMLResponse:
    container = request.app.state.container
    hub = supervisor_hub(container)
    stats = await hub.refresh_stats()

    def follow_ups() -> tuple[list[Any], list[dict[str, Any]]]:
        with session_scope(container.engine) as session:
            return (task_rows(session=session, user=user),
                    services.assignable_staff(session=session))

    tasks, staff = await asyncio.to_thread(follow_ups)
    return render(request, "supervisor.html", {
        "user": user, "live": hub.picture(), "stats": stats, "tasks": tasks, "staff": staff,
        "boot": {"timezone": container.settings.timezone,
                 "threshold": container.settings.service_level_seconds},
    })


@router.websocket("/supervisor/ws")
async def supervisor_socket(websocket: WebSocket, user: SupervisorSocketUser) -> None:
    hub = supervisor_hub(websocket.app.state.container)
    await websocket.accept()
    try:
        await hub.attach(websocket)
        await hold_socket(websocket, user)  # until the close, or the session ends
    except (WebSocketDisconnect, asyncio.CancelledError, RuntimeError):
        pass
    finally:
        hub.detach(websocket)


@router.get("/api/supervisor/live")
async def live(request: Request, _user: SupervisorUser) -> dict[str, Any]:
    """The live picture (the same JSON the websocket pushes)."""
    return supervisor_hub(request.app.state.container).picture()


@router.get("/api/supervisor/today")
async def today(request: Request, _user: SupervisorUser) -> dict[str, Any]:
    """Today's figures, abandoned calls and the backlog per department."""
    return await supervisor_hub(request.app.state.container).refresh_stats()


@router.post("/api/supervisor/callbacks", response_model=CallbackOut, status_code=201)
def call_back(user: SupervisorUser, session: DbSession, body: CallbackIn) -> CallbackOut:
    """Put a callback for an abandoned call on the follow-up list."""
    task = services.callback_for_call(session=session, linkedid=body.linkedid,
                                      actor=user.username,
                                      assigned_user_id=body.assigned_user_id)
    assert task.id is not None
    return CallbackOut(task_id=task.id, linkedid=body.linkedid, state=task.state)
