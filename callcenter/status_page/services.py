"""What the public may see of a request: status, department and dates. Nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from sqlmodel import Session

from callcenter.cases.services import get_request_by_code
from callcenter.digits import persian_digits
from callcenter.reference.models import Department
from callcenter.sms.messages import SmsCatalogue


def jalali(value: datetime | None, zone: ZoneInfo) -> str | None:
    """``۱۴۰۵/۰۹/۰۷ ۱۴:۳۰`` in the city's time zone, Persian digits."""
    if value is None:
        return None
    local = value.astimezone(zone)
    return persian_digits(jdatetime.datetime.fromgregorian(datetime=local)
                          .strftime("%Y/%m/%d %H:%M"))


def public_status(*, session: Session, code: str, catalogue: SmsCatalogue, timezone: str
                  ) -> dict[str, Any]:
    """The public view of one request; ``NoSuchRequest`` for a wrong or unknown code."""
    request = get_request_by_code(session=session, code=code)
    department = session.get(Department, request.department_code)
    zone = ZoneInfo(timezone)
    return {
        "tracking_code": request.tracking_code,
        "status": request.status,
        "status_fa": catalogue.status_label(request.status),
        "department_code": request.department_code,
        "department_fa": department.name_fa if department else request.department_code,
        "created_at": request.created_at.isoformat(timespec="seconds"),
        "updated_at": request.updated_at.isoformat(timespec="seconds"),
        "deadline_at": request.deadline_at.isoformat(timespec="seconds")
        if request.deadline_at else None,
        "resolved_at": request.resolved_at.isoformat(timespec="seconds")
        if request.resolved_at else None,
        "created_fa": jalali(request.created_at, zone),
        "updated_fa": jalali(request.updated_at, zone),
        "deadline_fa": jalali(request.deadline_at, zone),
        "resolved_fa": jalali(request.resolved_at, zone),
    }
