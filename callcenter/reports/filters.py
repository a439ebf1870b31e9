"""The filters every report takes, and the SQL conditions they mean on each table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import false, select
from sqlmodel import col

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestChannel
from callcenter.reference.models import Neighbourhood
from callcenter.reports.periods import Granularity, Period


@dataclass(frozen=True)
class ReportFilters:
    """A period, how to cut it, and optional department/category/place/channel."""

    period: Period
    granularity: Granularity = Granularity.DAY
    department: str | None = None
    category: str | None = None
    neighbourhood: str | None = None
    district: int | None = None
    channel: str | None = None

    def with_period(self, period: Period) -> ReportFilters:
        return replace(self, period=period)

    @property
    def narrows_requests(self) -> bool:
        """True when a filter other than the period and channel is set."""
        return any(v is not None for v in (self.department, self.category,
                                           self.neighbourhood, self.district))

    def described(self) -> list[tuple[str, str]]:
        """``(name, value)`` lines written at the top of every export."""
        lines = [("period", self.period.label()), ("granularity", str(self.granularity))]
        for name in ("department", "category", "neighbourhood", "district", "channel"):
            value = getattr(self, name)
            lines.append((name, "-" if value is None else str(value)))
        return lines


def request_conditions(filters: ReportFilters, *, channel: bool = True) -> list[Any]:
    """Conditions on ``citizen_request`` (not the period: each report picks its date)."""
    found: list[Any] = []
    if filters.department is not None:
        found.append(col(CitizenRequest.department_code) == filters.department)
    if filters.category is not None:
        found.append(col(CitizenRequest.category_code) == filters.category)
    if filters.neighbourhood is not None:
        found.append(col(CitizenRequest.neighbourhood_code) == filters.neighbourhood)
    if filters.district is not None:
        found.append(col(CitizenRequest.neighbourhood_code).in_(
            select(col(Neighbourhood.code)).where(
                col(Neighbourhood.district) == filters.district)))
    if channel and filters.channel is not None:
        found.append(col(CitizenRequest.channel) == filters.channel)
    return found


def call_conditions(filters: ReportFilters) -> list[Any]:
    """Inbound calls in the period; place/department filters go through the call's request.

    Calls are the phone channel: another channel filter leaves no call. A call without a
    request (the caller asked, nobody filed) has no department, so a department,
    category or place filter leaves it out.
    """
    found: list[Any] = [
        col(Call.direction) == "inbound",
        col(Call.entered_at) >= filters.period.start,
        col(Call.entered_at) < filters.period.end,
    ]
    if filters.channel is not None and filters.channel != RequestChannel.PHONE:
        found.append(false())
    if filters.narrows_requests:
        found.append(col(Call.request_id).in_(
            select(col(CitizenRequest.id)).where(*request_conditions(filters, channel=False))))
    return found
