"""``GET/POST /login`` and ``POST /logout`` (thin: the rules live in ``services``)."""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response

from callcenter.auth.deps import CurrentUser
from callcenter.auth.services import SignedInUser, log_in, signed_in_user
from callcenter.auth.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    new_csrf_token,
    tokens_match,
)
from callcenter.deps import AppServices, get_services
from callcenter.users.models import Role
from callcenter.web.templating import render

router = APIRouter(tags=["auth"])


def home_of(user: SignedInUser) -> str:
    return "/agent" if user.role == Role.AGENT else "/supervisor"


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc or "\\" in target else target


def _login_page(request: Request, *, error: str | None, code: int,
                next_path: str | None) -> Response:
    token = new_csrf_token()
    response = render(request, "login.html",
                      {"error": error, "next": next_path or "", "csrf_token": token},
                      status_code=code)
    get_services(request).auth.codec.set_login_csrf(response, token)
    return response


@router.get("/login", include_in_schema=False)
async def login_form(request: Request, services: AppServices,
                     next: str | None = None) -> Response:
    user = signed_in_user(engine=services.engine,
                          session_data=services.auth.codec.decode(request.cookies.get(SESSION_COOKIE)))
    if user is not None:
        return RedirectResponse(_safe_next(next) or home_of(user), status.HTTP_303_SEE_OTHER)
    return _login_page(request, error=None, code=200, next_path=_safe_next(next))


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    services: AppServices,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    state = services.auth
    expected = state.codec.read_login_csrf(request.cookies.get(LOGIN_CSRF_COOKIE))
    if not tokens_match(expected, csrf_token):
        return _login_page(request, error="login_failed", code=403, next_path=_safe_next(next))
    client = request.client.host if request.client else "unknown"
    # argon2 is deliberately slow: verify in a thread, never on the event loop.
    outcome = await asyncio.to_thread(
        log_in, engine=services.engine, limiter=state.limiter, username=username,
        password=password, client=client)
    if outcome.retry_after > 0:
        page = _login_page(request, error="login_throttled", code=429,
                           next_path=_safe_next(next))
        page.headers["Retry-After"] = str(int(outcome.retry_after) + 1)
        return page
    if outcome.session is None or outcome.user is None:
        return _login_page(request, error="login_failed", code=401, next_path=_safe_next(next))
    response = RedirectResponse(_safe_next(next) or home_of(outcome.user),
                                status.HTTP_303_SEE_OTHER)
    state.codec.set_session(response, outcome.session)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
async def logout(services: AppServices, _user: CurrentUser) -> Response:
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    services.auth.codec.clear_session(response)
    return response
