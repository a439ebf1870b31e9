"""Open311 GeoReport v2 under ``/open311/v2/`` (JSON). Thin: parse, call, shape.

Errors use the spec's format ``[{"code": <http status>, "description": "..."}]``.
POST needs an ``api_key`` from settings (``open311_clients``): its client's channel
(app, web, social) becomes the request's channel. Rate-limited per key and per address.

Every public read is rate-limited per address (each looked-up code costs one token);
``GET requests.json`` lists only the API key's own channel (nothing without a key), so
the tracking-code space cannot be walked. A POST's phone number is unverified: it never
lands on (or reveals) that number's open request; a new one is filed and linked for
agents, and the confirmation SMS per number per day is capped.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from callcenter.attachments.services import add_photo, attachments_root, photos_to_outbox
from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.deps import AppServices, Services
from callcenter.errors import DomainError
from callcenter.intake.services import file_request
from callcenter.media.links import LinkSigner
from callcenter.messages.models import MessageKind
from callcenter.open311 import services
from callcenter.open311.http_input import read_post
from callcenter.ratelimit import client_ip
from callcenter.sms.notify import queue_sms

router = APIRouter(prefix="/open311/v2", tags=["open311"])
MAX_DESCRIPTION = 4000
MAX_CODES_PER_READ = 10  # each costs a read token: the limit counts codes, not requests


def error(status: int, description: str, headers: dict[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status,
                        headers=headers)


def _from_domain(exc: DomainError) -> JSONResponse:
    return error(exc.status_code, exc.message)


def _read_refused(request: Request, app: Services, cost: int = 1) -> JSONResponse | None:
    """A 429 when this address has no ``cost`` read tokens left (one per code asked)."""
    limiter = app.limiters.open311_read
    key = f"ip:{client_ip(request)}"
    if all(limiter.allow(key) for _ in range(max(cost, 1))):
        return None
    return error(429, "too many requests", {"Retry-After": str(limiter.retry_after(key) or 60)})


@router.get("/services.json")
async def list_services(request: Request, app: AppServices) -> JSONResponse:
    if (refused := _read_refused(request, app)) is not None:
        return refused

    def work() -> list[dict[str, Any]]:
        with session_scope(app.engine) as session:
            return services.service_list(session=session)

    return JSONResponse(await asyncio.to_thread(work))


@router.get("/services/{code}.json")
async def service_definition(request: Request, app: AppServices, code: str) -> JSONResponse:
    if (refused := _read_refused(request, app)) is not None:
        return refused

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
        form, media = await read_post(request, photo_limit=settings.attachment_max_bytes)
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

    def work() -> CitizenRequest:
        with session_scope(app.engine) as session:
            result = file_request(
                session=session, phone=fields["phone"], channel=client.channel,
                category_code=fields["service_code"],
                description=fields.get("description") or None,
                neighbourhood_code=fields.get("address_id") or None,
                citizen_name=name or None, actor=f"open311:{client.name}",
                duplicate_window=timedelta(hours=settings.duplicate_window_hours),
                phone_verified=False, calendar=app.calendar,
            )
            session.flush()
            if media is not None:  # checked above; written only with the request
                add_photo(session=session, root=attachments_root(settings.data_dir),
                          content=media, max_bytes=settings.attachment_max_bytes,
                          channel=client.channel, request_id=result.request.id)
                photos_to_outbox(session=session, request=result.request)
            citizen = session.get(Citizen, result.request.citizen_id)
            assert citizen is not None and citizen.id is not None
            assert citizen.phone is not None  # filed by phone
            sent = services.confirmations_today(session=session, citizen_id=citizen.id,
                                                now=utcnow())
            confirm = sent <= settings.open311_confirmations_per_phone and not citizen.opted_out
            if confirm:  # the confirmation commits with the request (durable messages)
                queue_sms(session=session, to=citizen.phone, kind=MessageKind.REQUEST_FILED,
                          request_id=result.request.id, body=app.sms_catalogue.render(
                              "request_filed", code=result.request.tracking_code))
            return result.request

    try:
        filed = await app.pools.store.run(work)
    except DomainError as exc:
        return error(404 if exc.status_code == 404 else 400, exc.message)
    app.sms.wake()
    return JSONResponse([{"service_request_id": filed.tracking_code,
                          "service_notice": "request filed and referred",
                          "account_id": None}], status_code=201)


@router.get("/requests.json")
async def get_requests(request: Request, app: AppServices) -> JSONResponse:
    q = request.query_params
    try:
        start = services.parse_when(q.get("start_date"), "start_date")
        end = services.parse_when(q.get("end_date"), "end_date")
    except DomainError as exc:
        return _from_domain(exc)
    codes = [c.strip() for c in (q.get("service_request_id") or "").split(",") if c.strip()]
    if len(codes) > MAX_CODES_PER_READ:
        return error(400, f"at most {MAX_CODES_PER_READ} service_request_id values")
    if (refused := _read_refused(request, app, cost=len(codes))) is not None:
        return refused
    client = app.settings.open311_clients.get(q.get("api_key") or "")

    links = LinkSigner.from_settings(app.settings)

    def work() -> list[dict[str, Any]]:
        with session_scope(app.engine) as session:
            rows = services.find_requests(session=session, codes=codes,
                                          service_code=q.get("service_code"),
                                          status=q.get("status"), start=start, end=end,
                                          channel=client.channel if client else None)
            return [services.as_service_request(session=session, request=r, links=links)
                    for r in rows]

    try:
        return JSONResponse(await asyncio.to_thread(work))
    except DomainError as exc:
        return _from_domain(exc)


@router.get("/requests/{code}.json")
async def get_request(request: Request, app: AppServices, code: str) -> JSONResponse:
    if (refused := _read_refused(request, app)) is not None:
        return refused

    links = LinkSigner.from_settings(app.settings)

    def work() -> list[dict[str, Any]]:
        with session_scope(app.engine) as session:
            rows = services.find_requests(session=session, codes=[code])
            return [services.as_service_request(session=session, request=r, links=links)
                    for r in rows]

    found = await asyncio.to_thread(work)
    return JSONResponse(found) if found else error(404, f"no service request {code}")
