"""``GET /status/{code}`` (Persian HTML) and ``/status/{code}.json``: public, no login.

Every lookup, found or not, takes a token from the client address's bucket, so codes
cannot be enumerated (10^7 valid codes at ``status_lookups_per_minute``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from callcenter.cases.exceptions import NoSuchRequest
from callcenter.db.engine import session_scope
from callcenter.deps import AppServices
from callcenter.digits import persian_digits
from callcenter.ratelimit import client_ip
from callcenter.status_page.services import public_status

router = APIRouter(tags=["status"])
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
NOT_FOUND_FA = "درخواستی با این کد پیگیری یافت نشد. کد ۸ رقمی را دوباره بررسی کنید."
LIMITED_FA = "تعداد درخواست‌های شما زیاد است. چند دقیقه دیگر دوباره تلاش کنید."


async def _lookup(request: Request, services: AppServices, code: str
                  ) -> tuple[int, dict[str, Any] | None, str]:
    settings = services.settings
    limiter = services.limiters.status
    if not limiter.allow(client_ip(request)):
        return 429, None, LIMITED_FA
    catalogue = services.sms_catalogue

    def work() -> dict[str, Any]:
        with session_scope(services.engine) as session:
            return public_status(session=session, code=code[:32], catalogue=catalogue,
                                 timezone=settings.timezone)

    try:
        return 200, await asyncio.to_thread(work), ""
    except NoSuchRequest:
        return 404, None, NOT_FOUND_FA


@router.get("/status/{code}.json")
async def status_json(request: Request, services: AppServices, code: str) -> JSONResponse:
    status, item, message = await _lookup(request, services, code)
    headers = {"Retry-After": "60"} if status == 429 else None
    body = item if item is not None else {"error": "rate-limited" if status == 429
                                          else "no-such-request", "message": message}
    return JSONResponse(body, status_code=status, headers=headers)


@router.get("/status/{code}", response_class=HTMLResponse)
async def status_html(request: Request, services: AppServices, code: str) -> Response:
    status, item, message = await _lookup(request, services, code)
    headers = {"Retry-After": "60"} if status == 429 else None
    context = {"item": item, "message": message,
               "code_fa": persian_digits(item["tracking_code"]) if item else ""}
    return TEMPLATES.TemplateResponse(request, "status.html", context, status_code=status,
                                      headers=headers)
