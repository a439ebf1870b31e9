"""Auth dependencies: ``current_user``, ``require_role(*roles)``, CSRF, and their aliases.

Every request and websocket reads the session row the cookie names (``auth.store``), so
a revoked or idle session is refused at once. Unauthenticated: HTML routes answer 303 to
``/login``, ``/api/*`` answers 401, and websockets close with 4401 (4403 for a wrong
role or a foreign Origin). Admin passes every role check. Unsafe methods
(POST/PUT/PATCH/DELETE) need the session's CSRF token, in the ``csrf_token`` form field
or the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request, WebSocket, WebSocketException, status
from sqlmodel import Session

from callcenter.auth.services import SignedInUser, signed_in_user
from callcenter.auth.sessions import SESSION_COOKIE, tokens_match
from callcenter.db.engine import read_scope, session_scope
from callcenter.deps import Services, get_services
from callcenter.users.models import Role

WS_UNAUTHENTICATED = 4401
WS_FORBIDDEN = 4403
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def db_session(request: Request) -> Iterator[Session]:
    """A session per request; committed on success, rolled back on error. A safe method
    (GET, HEAD) only reads: it never queues behind SQLite's write lock."""
    engine = get_services(request).engine
    scope = session_scope if request.method in UNSAFE_METHODS else read_scope
    with scope(engine) as session:
        yield session


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _unauthenticated(request: Request) -> HTTPException:
    if _is_api(request):
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED, "login required", {"WWW-Authenticate": "Cookie"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status.HTTP_303_SEE_OTHER, "login required",
        {"Location": f"/login?next={quote(target, safe='')}"},
    )


async def session_user(services: Services, cookie: str | None) -> SignedInUser | None:
    """The user of the live session a cookie names; the lookup runs on the auth pool,
    never behind store or send work."""
    state = services.auth
    return await services.pools.auth.run(
        signed_in_user, engine=services.engine, session_id=state.codec.decode(cookie),
        idle=state.idle)


async def current_user(request: Request) -> SignedInUser:
    """The signed-in staff member; checks CSRF on unsafe methods."""
    user = await session_user(get_services(request), request.cookies.get(SESSION_COOKIE))
    if user is None:
        raise _unauthenticated(request)
    if request.method in UNSAFE_METHODS:
        given = request.headers.get(CSRF_HEADER)
        if given is None and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if not tokens_match(user.csrf_token, given):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return user


def role_allows(user: SignedInUser, roles: tuple[Role, ...]) -> bool:
    return user.role == Role.ADMIN or user.role in roles


def require_role(*roles: Role) -> Callable[..., Any]:
    """A dependency admitting only these roles (and admin); 403 otherwise."""

    async def dependency(user: Annotated[SignedInUser, Depends(current_user)]) -> SignedInUser:
        if not role_allows(user, roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not use this")
        return user

    return dependency


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers always send Origin on websockets; refuse other sites (CSWSH)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (tests, scripts): the cookie alone authenticates
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


def require_ws_role(*roles: Role) -> Callable[..., Any]:
    """The websocket twin of ``require_role``: closes 4401 / 4403 before accepting."""

    async def dependency(websocket: WebSocket) -> SignedInUser:
        user = await session_user(get_services(websocket),
                                  websocket.cookies.get(SESSION_COOKIE))
        if user is None:
            raise WebSocketException(WS_UNAUTHENTICATED, "login required")
        if not _same_origin(websocket) or not role_allows(user, roles):
            raise WebSocketException(WS_FORBIDDEN, "forbidden")
        return user

    return dependency


async def hold_socket(websocket: WebSocket, user: SignedInUser) -> None:
    """Read an accepted socket until the client leaves, re-checking every
    ``session_recheck_seconds`` that the user's session still lives: a logout, password
    change or disabled account closes the socket with 4401 (the page goes to login)."""
    services = get_services(websocket)
    every = services.settings.session_recheck_seconds
    while True:
        try:
            await asyncio.wait_for(websocket.receive_text(), timeout=every)
            continue
        except TimeoutError:
            pass
        still = await session_user(services, websocket.cookies.get(SESSION_COOKIE))
        if still is None or still.session_id != user.session_id:
            await websocket.close(code=WS_UNAUTHENTICATED, reason="session ended")
            return


CurrentUser = Annotated[SignedInUser, Depends(current_user)]
StaffUser = Annotated[
    SignedInUser, Depends(require_role(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))
]
AgentUser = Annotated[SignedInUser, Depends(require_role(Role.AGENT))]
SupervisorUser = Annotated[SignedInUser, Depends(require_role(Role.SUPERVISOR))]
AdminUser = Annotated[SignedInUser, Depends(require_role(Role.ADMIN))]
# Reports (aggregates, no phone numbers): managers, supervisors and admins.
ReportsUser = Annotated[
    SignedInUser, Depends(require_role(Role.MANAGER, Role.SUPERVISOR, Role.ADMIN))
]
AgentSocketUser = Annotated[SignedInUser, Depends(require_ws_role(Role.AGENT, Role.SUPERVISOR))]
SupervisorSocketUser = Annotated[SignedInUser, Depends(require_ws_role(Role.SUPERVISOR))]
DbSession = Annotated[Session, Depends(db_session, scope="function")]
