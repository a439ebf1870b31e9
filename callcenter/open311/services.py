"""Open311 GeoReport v2 over the request store: categories as services, requests as
service requests. ``agency_responsible`` is the department, ``expected_datetime`` the
deadline, statuses are open/closed. Public reads carry no personal data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from callcenter.attachments.models import Attachment, AttachmentKind
from callcenter.attachments.services import attachment_link_path
from callcenter.cases.models import OPEN_STATUSES, CitizenRequest
from callcenter.clock import utcnow
from callcenter.errors import InvalidInput
from callcenter.media.links import LinkSigner
from callcenter.reference.models import Category, Department

MAX_RESULTS = 1000
DEFAULT_SPAN = timedelta(days=90)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
# Channels whose caller only typed a phone number (nothing proves they own it).
UNVERIFIED_CHANNELS = ["app", "web", "social"]
_OPEN = [str(s) for s in OPEN_STATUSES]


def open311_status(status: str) -> str:
    return "open" if status in _OPEN else "closed"


def service_list(*, session: Session) -> list[dict[str, Any]]:
    """Every category as a service (Persian name, English description)."""
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    rows = session.exec(select(Category).order_by(col(Category.digit))).all()
    return [
        {
            "service_code": c.code,
            "service_name": c.name_fa,
            "description": c.name_en,
            "metadata": False,
            "type": "realtime",
            "keywords": f"{c.name_fa}, {c.name_en}",
            "group": departments[c.department_code].name_fa
            if c.department_code in departments else c.department_code,
        }
        for c in rows
    ]


def service_definition(*, session: Session, code: str) -> dict[str, Any] | None:
    """The definition of one service: no extra attributes (neighbourhood is address_id)."""
    if session.get(Category, code) is None:
        return None
    return {"service_code": code, "attributes": []}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def as_service_request(*, session: Session, request: CitizenRequest,
                       links: LinkSigner | None = None) -> dict[str, Any]:
    """One request in GeoReport v2 shape; no phone, name or free text (may hold both).

    ``media_url``: a signed, expiring link to the request's first photo (with ``links``)."""
    category = session.get(Category, request.category_code)
    department = session.get(Department, request.department_code)
    return {
        "service_request_id": request.tracking_code,
        "status": open311_status(request.status),
        "status_notes": request.status,
        "service_name": category.name_fa if category else request.category_code,
        "service_code": request.category_code,
        "description": None,
        "agency_responsible": department.name_fa if department else request.department_code,
        "service_notice": None,
        "requested_datetime": _iso(request.created_at),
        "updated_datetime": _iso(request.updated_at),
        "expected_datetime": _iso(request.deadline_at),
        "address": None,
        "address_id": request.neighbourhood_code,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": _media_url(session, request, links),
        "reporter_count": request.reporter_count,
    }


def _media_url(session: Session, request: CitizenRequest, links: LinkSigner | None
               ) -> str | None:
    if links is None or request.id is None:
        return None
    photo = session.exec(select(Attachment.id).where(Attachment.request_id == request.id)
                         .where(Attachment.kind == AttachmentKind.PHOTO)
                         .order_by(col(Attachment.id))).first()
    return links.sign(attachment_link_path(photo)) if photo is not None else None


def parse_when(value: str | None, name: str) -> datetime | None:
    """A W3C/ISO 8601 date-time (a missing zone means UTC) between ``EARLIEST`` and
    ``LATEST``: ``0001-01-01`` minus the 90-day default span overflowed into a 500."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=utcnow().tzinfo)
        in_range = EARLIEST <= parsed <= LATEST
    except (ValueError, OverflowError):
        raise InvalidInput(f"{name} is not an ISO 8601 date-time", field=name) from None
    if not in_range:
        raise InvalidInput(f"{name} must lie between {EARLIEST.year} and {LATEST.year}",
                           field=name)
    return parsed


def confirmations_today(*, session: Session, citizen_id: int, now: datetime) -> int:
    """How many requests this number filed over unverified channels (Open311) in the
    last day: each got a confirmation SMS, and their count is capped."""
    rows = session.exec(
        select(CitizenRequest.id)
        .where(CitizenRequest.citizen_id == citizen_id)
        .where(col(CitizenRequest.channel).in_(UNVERIFIED_CHANNELS))
        .where(col(CitizenRequest.created_at) >= now - timedelta(days=1))
    ).all()
    return len(rows)


def find_requests(
    *,
    session: Session,
    codes: Sequence[str] = (),
    service_code: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    channel: str | None = None,
) -> Sequence[CitizenRequest]:
    """GET requests.json: by ids, or filtered (default: the last 90 days), newest first.
    A filtered list covers only ``channel`` (the API key's own requests)."""
    query = select(CitizenRequest)
    if codes:
        query = query.where(col(CitizenRequest.tracking_code).in_(list(codes)))
    else:
        if channel is None:
            return []  # no key: nothing to list (codes only, like the status page)
        query = query.where(CitizenRequest.channel == channel)
        if status not in (None, "", "open", "closed"):
            raise InvalidInput("status must be open or closed", field="status")
        end = end or utcnow()
        start = start or end - DEFAULT_SPAN
        if start > end:
            raise InvalidInput("start_date is after end_date", field="start_date")
        query = query.where(col(CitizenRequest.created_at) >= start)
        query = query.where(col(CitizenRequest.created_at) <= end)
        if service_code:
            query = query.where(CitizenRequest.category_code == service_code)
        if status == "open":
            query = query.where(col(CitizenRequest.status).in_(_OPEN))
        elif status == "closed":
            query = query.where(col(CitizenRequest.status).not_in(_OPEN))
    query = query.order_by(col(CitizenRequest.created_at).desc()).limit(MAX_RESULTS)
    return session.exec(query).all()
