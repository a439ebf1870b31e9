"""Open311 GeoReport v2 under ``/open311/v2/`` (JSON). Thin: parse, call, shape.

Errors use the spec's format ``[{"code": <http status>, "description": "..."}]``.
POST needs an ``api_key`` from settings (``open311_clients``): its client's channel
(app, web, social) becomes the request's channel. Rate-limited per key and per address.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.db.engine import session_scope
from callcenter.deps import AppServices
from callcenter.errors import DomainError
from callcenter.intake.http_input import parse_form, parse_json_object, read_limited
from callcenter.intake.services import file_request
from callcenter.open311 import services
from callcenter.ratelimit import client_ip

router = APIRouter(prefix="/open311/v2", tags=["open311"])
MAX_BODY_BYTES = 64 * 1024
MAX_DESCRIPTION = 4000


def error(status: int, description: str, headers: dict[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status,
                        headers=headers)


def _from_domain(exc: DomainError) -> JSONResponse:
    return error(exc.status_code, exc.message)


@router.get("/services.json")
async def list_services(request: Request, app: AppServices) -> JSONResponse:
    def work() -> list[dict[str, Any]]:
        with session_scope(app.engine) as session:
            return services.service_list(session=session)

    return JSONResponse(await asyncio.to_thread(work))


@router.get("/services/{code}.json")
async def service_definition(app: AppServices, code: str) -> JSONResponse:
    def work() -> dict[str, Any] | None:
        with session_scope(app.engine) as session:
            return services.service_definition(session=session, code=code)

    definition = await asyncio.to_thread(work)
    return error(404, f"unknown service_code {code}") if definition is None else JSONResponse(
        definition)


@router.post("/requests.json")
async def post_request(request: Request, app: AppServices) -> JSONResponse:
    settings = app.settings
    limiter = app.limiters.open311_post
    if not limiter.allow(f"ip:{client_ip(request)}"):
        return error(429, "too many requests", {"Retry-After": "60"})
    try:
        raw = await read_limited(request, MAX_BODY_BYTES)
        is_json = request.headers.get("content-type", "").startswith("application/json")
        form = parse_json_object(raw) if is_json else parse_form(raw)
    except DomainError as exc:
        return _from_domain(exc)
    client = settings.open311_clients.get(str(form.get("api_key") or ""))
    if client is None:
        return error(403, "invalid api_key")
    if not limiter.allow(f"key:{client.name}"):
        return error(429, "too many requests", {"Retry-After": "60"})
    fields = {k: str(v).strip() for k, v in form.items() if isinstance(v, str | int | float)}
    missing = [k for k in ("service_code", "phone") if not fields.get(k)]
    if missing:
        return error(400, f"missing required field(s): {', '.join(missing)}")
    if len(fields.get("description", "")) > MAX_DESCRIPTION:
        return error(400, f"description longer than {MAX_DESCRIPTION} characters")
    name = " ".join(p for p in (fields.get("first_name"), fields.get("last_name")) if p)

    def work() -> tuple[CitizenRequest, bool, str]:
        with session_scope(app.engine) as session:
            result = file_request(
                session=session, phone=fields["phone"], channel=client.channel,
                category_code=fields["service_code"],
                description=fields.get("description") or None,
                neighbourhood_code=fields.get("address_id") or None,
                citizen_name=name or None, actor=f"open311:{client.name}",
                duplicate_window=timedelta(hours=settings.duplicate_window_hours),
            )
            session.flush()
            citizen = session.get(Citizen, result.request.citizen_id)
            assert citizen is not None
            return result.request, result.repeat_of, citizen.phone

    try:
        filed, repeat, phone = await asyncio.to_thread(work)
    except DomainError as exc:
        return error(404 if exc.status_code == 404 else 400, exc.message)
    catalogue = app.sms_catalogue
    text = catalogue.render("repeat_contact" if repeat else "request_filed",
                            code=filed.tracking_code)
    app.sms.send_later(to=phone, body=text, request_id=filed.id)
    notice = "linked to your open request" if repeat else "request filed and referred"
    return JSONResponse([{"service_request_id": filed.tracking_code,
                          "service_notice": notice, "account_id": None}], status_code=201)


@router.get("/requests.json")
async def get_requests(request: Request, app: AppServices) -> JSONResponse:
    q = request.query_params
    try:
        start = services.parse_when(q.get("start_date"), "start_date")
        end = services.parse_when(q.get("end_date"), "end_date")
    except DomainError as exc:
        return _from_domain(exc)
    codes = [c.strip() for c in (q.get("service_request_id") or "").split(",") if c.strip()]

    def work() -> list[dict[str, Any]]:
        with session_scope(app.engine) as session:
            rows = services.find_requests(session=session, codes=codes[:100],
                                          service_code=q.get("service_code"),
                                          status=q.get("status"), start=start, end=end)
            return [services.as_service_request(session=session, request=r) for r in rows]

    try:
        return JSONResponse(await asyncio.to_thread(work))
    except DomainError as exc:
        return _from_domain(exc)


@router.get("/requests/{code}.json")
async def get_request(request: Request, app: AppServices, code: str) -> JSONResponse:
    def work() -> list[dict[str, Any]]:
        with session_scope(app.engine) as session:
            rows = services.find_requests(session=session, codes=[code])
            return [services.as_service_request(session=session, request=r) for r in rows]

    found = await asyncio.to_thread(work)
    return JSONResponse(found) if found else error(404, f"no service request {code}")
