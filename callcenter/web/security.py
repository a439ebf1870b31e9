"""Browser hardening for every response, the API docs behind a login in production, and
the access log without phone numbers.

* Headers (a pure ASGI middleware, so websockets and streaming pass untouched): a strict
  CSP (the panels load only their own ``/static`` files; the JSON they boot from sits in
  ``type="application/json"`` blocks, which CSP does not treat as scripts),
  ``frame-ancestors 'none'`` with ``X-Frame-Options: DENY`` (no clickjacking),
  ``nosniff`` and a ``same-origin`` referrer (a ``?phone=`` URL never leaves the site).
* ``/docs`` and ``/openapi.json``: public in development and tests, staff-only in
  production (Swagger UI needs its CDN and an inline script: its own CSP).
* ``PhoneQueryMask``: uvicorn's access log line with ``?phone=0913...`` keeps only the
  last 3 digits.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callcenter.auth.deps import StaffUser
from callcenter.citizens.phone import mask_phone
from callcenter.settings import Settings

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com; object-src 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
BASE_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"same-origin")]


class SecurityHeaders:
    """Adds the hardening headers to every HTTP response (kept if a route set its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"].startswith(DOCS_PATHS) else CSP
        extra = [*BASE_HEADERS, (b"content-security-policy", csp.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def app_options(settings: Settings) -> dict[str, Any]:
    """``FastAPI(...)`` keywords: in production the built-in docs routes are off (the
    staff-only ones of ``docs_router`` replace them)."""
    if settings.environment == "production":
        return {"docs_url": None, "redoc_url": None, "openapi_url": None}
    return {}


def docs_router(app: FastAPI) -> APIRouter:
    """``/docs`` and ``/openapi.json`` for signed-in staff only (production)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi(_user: StaffUser) -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    async def docs(_user: StaffUser) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    return router


def install(app: FastAPI, settings: Settings) -> None:
    """Headers on every response; the docs behind a login in production."""
    app.add_middleware(SecurityHeaders)
    if settings.environment == "production":
        app.include_router(docs_router(app))


_PHONE_PARAM = re.compile(r"(?i)([?&](?:phone|from|to|caller)=)([^&\s]+)")


class PhoneQueryMask(logging.Filter):
    """Masks phone numbers in query strings of access-log lines (uvicorn's args)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_mask(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _mask(record.msg)
        return True


def _mask(text: str) -> str:
    from urllib.parse import unquote

    return _PHONE_PARAM.sub(lambda m: m.group(1) + mask_phone(unquote(m.group(2))), text)


def install_log_masking(logger_name: str = "uvicorn.access") -> None:
    """Once per process (``callcenter serve``); adding it twice changes nothing."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, PhoneQueryMask) for f in logger.filters):
        logger.addFilter(PhoneQueryMask())
