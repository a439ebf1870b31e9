"""The daily request roll-up: requests filed per local day x department x category x
neighbourhood x channel (``report_request_day``), read instead of ``citizen_request``
by the request-volume and neighbourhood figures when every day of the period is in it.

Built from raw rows for closed days only (``refresh``: every local day up to yesterday;
today stays raw). A day's rows are deleted and recomputed in one transaction, so a
rebuild is exact and idempotent; ``refresh`` also recomputes the last ``REBUILD_DAYS``
days each time, so a request re-routed to another department or category within that
window is followed; an older edit is followed by ``callcenter reports rollup --full``.
A test rebuilds from raw rows and compares every figure both ways.
"""

from __future__ import annotations

import typing
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, cast, delete, func, insert, literal, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from callcenter.cases.models import CitizenRequest
from callcenter.clock import as_utc, utcnow
from callcenter.db.engine import session_scope
from callcenter.reference.models import Neighbourhood
from callcenter.reports.filters import ReportFilters
from callcenter.reports.models import RequestDay, RollupMark
from callcenter.reports.periods import Granularity, Period, buckets
from callcenter.reports.sqlbits import _tree, epoch_seconds, offset_stretches

NAME = "request_day"
EPOCH = date(1970, 1, 1)
REBUILD_DAYS = 31


def day_number(day: date) -> int:
    return (day - EPOCH).days


def _local_day(column: Any, period: Period) -> Any:
    """The local day number of ``column`` (rows inside ``period``)."""
    stretches = offset_stretches(period)
    offset = _tree(column, [start for start, _ in stretches[1:]],
                   [seconds for _, seconds in stretches])
    return (epoch_seconds(column) + cast(offset, BigInteger)) // 86400


def rebuild(session: Session, *, first: date, last: date, timezone: str) -> int:
    """Recompute the local days ``first`` .. ``last`` from ``citizen_request``; rows
    written. The caller commits (and then moves the mark)."""
    period = Period(first, last, timezone)
    session.execute(delete(RequestDay).where(col(RequestDay.day) >= day_number(first),
                                             col(RequestDay.day) <= day_number(last)))
    r = CitizenRequest
    rows = select(
        _local_day(r.created_at, period).label("day"),
        col(r.department_code).label("department_code"),
        col(r.category_code).label("category_code"),
        func.coalesce(r.neighbourhood_code, "").label("neighbourhood_code"),
        col(r.channel).label("channel"),
    ).where(col(r.created_at) >= period.start, col(r.created_at) < period.end).subquery()
    grouped = select(rows.c.day, rows.c.department_code, rows.c.category_code,
                     rows.c.neighbourhood_code, rows.c.channel, func.count()).group_by(
        rows.c.day, rows.c.department_code, rows.c.category_code, rows.c.neighbourhood_code,
        rows.c.channel)
    result = session.execute(insert(RequestDay).from_select(
        ["day", "department_code", "category_code", "neighbourhood_code", "channel",
         "requests"], grouped))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def refresh(engine: Engine, *, timezone: str, now: datetime | None = None,
            full: bool = False) -> tuple[date, date] | None:
    """Bring the roll-up up to yesterday (local); the days rebuilt, or None."""
    now = as_utc(now or utcnow())
    yesterday = now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
    with session_scope(engine) as session:
        mark = session.get(RollupMark, NAME)
        oldest = session.execute(select(func.min(CitizenRequest.created_at))).scalar_one()
        if oldest is None:
            return None
        first_day = as_utc(oldest).astimezone(ZoneInfo(timezone)).date()
        if mark is None or full or mark.timezone != timezone:
            start = first_day
            session.execute(delete(RequestDay))
        else:
            start = max(EPOCH + timedelta(days=mark.through_day - REBUILD_DAYS + 1), first_day)
        if start > yesterday:
            return None
        # A year at a time keeps each statement's CASE tree of offsets small.
        chunk = start
        while chunk <= yesterday:
            end = min(chunk + timedelta(days=366), yesterday)
            rebuild(session, first=chunk, last=end, timezone=timezone)
            chunk = end + timedelta(days=1)
        if mark is None:
            mark = RollupMark(name=NAME, timezone=timezone, first_day=day_number(first_day),
                              through_day=day_number(yesterday))
        mark.timezone, mark.built_at = timezone, utcnow()
        mark.first_day = min(mark.first_day, day_number(first_day)) if not full else \
            day_number(first_day)
        mark.through_day = day_number(yesterday)
        session.add(mark)
        return start, yesterday


def covers(session: Session, filters: ReportFilters) -> bool:
    """True when the roll-up holds every day of the period (and the period is cut by
    whole days: not by hour of day)."""
    if filters.granularity == Granularity.HOUR:
        return False
    mark = session.get(RollupMark, NAME)
    if mark is None or mark.timezone != filters.period.timezone:
        return False
    return day_number(filters.period.last) <= mark.through_day


def conditions(filters: ReportFilters, period: Period | None = None) -> list[Any]:
    """The period's days and the filters, on ``report_request_day``."""
    period = period or filters.period
    d = RequestDay
    found: list[Any] = [col(d.day) >= day_number(period.first),
                        col(d.day) <= day_number(period.last)]
    if filters.department is not None:
        found.append(col(d.department_code) == filters.department)
    if filters.category is not None:
        found.append(col(d.category_code) == filters.category)
    if filters.neighbourhood is not None:
        found.append(col(d.neighbourhood_code) == filters.neighbourhood)
    if filters.district is not None:
        found.append(col(d.neighbourhood_code).in_(select(col(Neighbourhood.code)).where(
            col(Neighbourhood.district) == filters.district)))
    if filters.channel is not None:
        found.append(col(d.channel) == filters.channel)
    return found


def day_bucket(filters: ReportFilters) -> Any:
    """The bucket index of a roll-up row's day (the period's buckets, by day number)."""
    series = buckets(filters.period, filters.granularity)
    zone = ZoneInfo(filters.period.timezone)
    bounds = [day_number(as_utc(b.start).astimezone(zone).date())
              for b in series[1:] if b.start is not None]
    return _tree(typing.cast(Any, col(RequestDay.day)), bounds, list(range(len(series))))


def dimension(name: str) -> Any:
    d = RequestDay
    if name == "district":
        return select(col(Neighbourhood.district)).where(
            col(Neighbourhood.code) == d.neighbourhood_code).scalar_subquery()
    column = {"channel": d.channel, "category": d.category_code,
              "department": d.department_code, "neighbourhood": d.neighbourhood_code}[name]
    return col(column)


def volume(*, session: Session, filters: ReportFilters, by: str,
           by_bucket: bool) -> list[tuple[Any, str, int]]:
    """As ``queries_requests.volume``, from the roll-up."""
    key = day_bucket(filters) if by_bucket else literal(None)
    value = col(Neighbourhood.district) if by == "district" else dimension(by)
    rows: Any = select(key.label("b"), value.label("v"), col(RequestDay.requests).label("n"))
    if by == "district":  # a join, not a subquery per roll-up row
        rows = rows.outerjoin(Neighbourhood,
                              col(Neighbourhood.code) == col(RequestDay.neighbourhood_code))
    rows = rows.where(*conditions(filters)).subquery()
    query = select(rows.c.b, rows.c.v, func.sum(rows.c.n)).group_by(rows.c.b, rows.c.v)
    return [(b, "-" if v is None or v == "" else str(v), int(n))
            for b, v, n in session.execute(query)]


def matrix(*, session: Session, filters: ReportFilters) -> list[tuple[str, str, int]]:
    """As ``queries_needs.matrix``, from the roll-up."""
    d = RequestDay
    query = select(col(d.neighbourhood_code), col(d.category_code),
                   func.sum(d.requests)).where(*conditions(filters)).group_by(
        col(d.neighbourhood_code), col(d.category_code))
    return [(p or "-", str(c), int(n)) for p, c, n in session.execute(query)]
