"""SQL aggregates over requests and their history (``citizen_request``, ``request_event``).

The cohort of a period is the requests *created* in it (``created_at`` in the period);
backlog ageing is the requests open at the period's end (``now`` if sooner).
Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlmodel import Session, col

from callcenter.cases.models import OPEN_STATUSES, CitizenRequest, RequestEvent
from callcenter.reference.models import Neighbourhood
from callcenter.reports import rollups
from callcenter.reports.filters import ReportFilters, request_conditions
from callcenter.reports.sqlbits import (
    count_if,
    epoch_seconds,
    percentile,
    rank_columns,
    time_key,
)

DIMENSIONS = ("channel", "category", "department", "neighbourhood", "district")
AGE_EDGES_DAYS = (1, 3, 7)  # backlog ageing: <1, 1-3, 3-7, 7+ days since filing


def cohort(filters: ReportFilters) -> list[Any]:
    """Requests created in the period that pass the filters."""
    return [col(CitizenRequest.created_at) >= filters.period.start,
            col(CitizenRequest.created_at) < filters.period.end,
            *request_conditions(filters)]


def dimension(name: str) -> Any:
    if name == "district":
        return select(col(Neighbourhood.district)).where(
            col(Neighbourhood.code) == CitizenRequest.neighbourhood_code).scalar_subquery()
    column = {"channel": CitizenRequest.channel, "category": CitizenRequest.category_code,
              "department": CitizenRequest.department_code,
              "neighbourhood": CitizenRequest.neighbourhood_code}[name]
    return col(column)


def volume(*, session: Session, filters: ReportFilters, by: str,
           by_bucket: bool = True) -> list[tuple[Any, str, int]]:
    """``(bucket key, value, requests)`` per bucket and value of the dimension ``by``
    (bucket key ``None`` for the whole period); from the daily roll-up when it holds
    every day of the period."""
    if rollups.covers(session, filters):
        return rollups.volume(session=session, filters=filters, by=by, by_bucket=by_bucket)
    key = time_key(filters, CitizenRequest.created_at) if by_bucket else literal(None)
    rows = select(key.label("b"), dimension(by).label("v")).where(*cohort(filters)).subquery()
    query = select(rows.c.b, rows.c.v, func.count()).group_by(rows.c.b, rows.c.v)
    return [(b, "-" if v is None else str(v), int(n)) for b, v, n in session.execute(query)]


def status_now(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """The cohort per current status."""
    query = select(col(CitizenRequest.status), func.count()).where(
        *cohort(filters)).group_by(col(CitizenRequest.status))
    return {str(status): int(n) for status, n in session.execute(query)}


def status_reached(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """How many of the cohort ever reached each status (from their history)."""
    ids = select(col(CitizenRequest.id)).where(*cohort(filters))
    query = select(col(RequestEvent.to_status),
                   func.count(func.distinct(RequestEvent.request_id))).where(
        col(RequestEvent.request_id).in_(ids), col(RequestEvent.kind) == "status",
        col(RequestEvent.to_status).is_not(None),
    ).group_by(col(RequestEvent.to_status))
    return {str(status): int(n) for status, n in session.execute(query)}


def _durations(rows: Any) -> Any:
    """Per department: count, nearest-rank median and p90 of ``rows.c.seconds``."""
    ranked = select(rows.c.department, rows.c.seconds,
                    *rank_columns(rows.c.seconds, rows.c.department)).subquery()
    return select(
        ranked.c.department, func.count().label("n"),
        percentile(ranked.c.seconds, ranked.c.rn, ranked.c.n, numerator=1, denominator=2)
        .label("median"),
        percentile(ranked.c.seconds, ranked.c.rn, ranked.c.n, numerator=9, denominator=10)
        .label("p90"),
    ).group_by(ranked.c.department).order_by(ranked.c.department)


def first_action_times(*, session: Session, filters: ReportFilters) -> list[dict[str, Any]]:
    """Seconds from filing to the first status change, per department (median, p90)."""
    ids = select(col(CitizenRequest.id)).where(*cohort(filters))
    first = select(col(RequestEvent.request_id).label("request_id"),
                   func.min(RequestEvent.at).label("first_at")).where(
        col(RequestEvent.kind) == "status", col(RequestEvent.request_id).in_(ids),
    ).group_by(col(RequestEvent.request_id)).subquery()
    rows = select(
        col(CitizenRequest.department_code).label("department"),
        (epoch_seconds(first.c.first_at) - epoch_seconds(CitizenRequest.created_at))
        .label("seconds"),
    ).join(first, first.c.request_id == CitizenRequest.id).where(*cohort(filters)).subquery()
    return [dict(r._mapping) for r in session.execute(_durations(rows))]


def resolution_times(*, session: Session, filters: ReportFilters) -> list[dict[str, Any]]:
    """Seconds from filing to resolution of the cohort's resolved requests, per department."""
    rows = select(
        col(CitizenRequest.department_code).label("department"),
        (epoch_seconds(CitizenRequest.resolved_at) - epoch_seconds(CitizenRequest.created_at))
        .label("seconds"),
    ).where(*cohort(filters), col(CitizenRequest.resolved_at).is_not(None)).subquery()
    return [dict(r._mapping) for r in session.execute(_durations(rows))]


def deadlines(*, session: Session, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per department: resolved with a deadline, met, late, and the late ones' lateness."""
    late_by = (epoch_seconds(CitizenRequest.resolved_at)
               - epoch_seconds(CitizenRequest.deadline_at))
    resolved = col(CitizenRequest.resolved_at)
    deadline = col(CitizenRequest.deadline_at)
    query = select(
        col(CitizenRequest.department_code).label("department"),
        func.count().label("resolved"),
        count_if(resolved <= deadline).label("met"),
        count_if(resolved > deadline).label("late"),
        func.avg(case((resolved > deadline, late_by))).label("late_mean_seconds"),
        func.max(case((resolved > deadline, late_by))).label("late_max_seconds"),
    ).where(*cohort(filters), resolved.is_not(None), deadline.is_not(None)
            ).group_by(col(CitizenRequest.department_code)
                       ).order_by(col(CitizenRequest.department_code))
    return [dict(r._mapping) for r in session.execute(query)]


def status_at(moment: datetime, requests: Any) -> Any:
    """``(request_id, status)`` of the ``requests`` (a select of ids) as their history
    stood at ``moment``: the ``to_status`` of the last line before then (filing writes
    ``new``)."""
    ranked = select(
        col(RequestEvent.request_id).label("request_id"),
        col(RequestEvent.to_status).label("status"),
        func.row_number().over(partition_by=col(RequestEvent.request_id),
                               order_by=(col(RequestEvent.at).desc(),
                                         col(RequestEvent.id).desc())).label("rn"),
    ).where(col(RequestEvent.to_status).is_not(None), col(RequestEvent.at) < moment,
            col(RequestEvent.request_id).in_(requests)).subquery()
    return select(ranked.c.request_id, ranked.c.status).where(ranked.c.rn == 1).subquery()


def backlog_ageing(*, session: Session, filters: ReportFilters,
                   now: datetime) -> list[dict[str, Any]]:
    """Requests open at the period's end (or ``now`` when that is sooner) per department,
    by age since filing at that moment and past deadline at that moment.

    A period that has not ended reads the current status; an ended one reads each
    request's status from its history as it stood at the period's end.
    """
    as_of = min(filters.period.end, now)
    created = col(CitizenRequest.created_at)
    edges = [as_of - timedelta(days=days) for days in AGE_EDGES_DAYS]
    open_statuses = sorted(str(s) for s in OPEN_STATUSES)
    query = select(
        col(CitizenRequest.department_code).label("department"),
        func.count().label("open"),
        count_if(created > edges[0]).label("under_1d"),
        count_if(and_(created <= edges[0], created > edges[1])).label("d1_3"),
        count_if(and_(created <= edges[1], created > edges[2])).label("d3_7"),
        count_if(created <= edges[2]).label("over_7d"),
        count_if(col(CitizenRequest.deadline_at) < as_of).label("past_deadline"),
    ).where(created < as_of, *request_conditions(filters))
    status_now = col(CitizenRequest.status).in_(open_statuses)
    if as_of >= now:
        query = query.where(status_now)
    else:
        # A request not changed since (``updated_at``, bumped by every status change) has
        # its status then; only the others are looked up in their history.
        changed = col(CitizenRequest.updated_at) > as_of
        then = status_at(as_of, select(col(CitizenRequest.id)).where(
            changed, created < as_of, *request_conditions(filters)))
        query = query.outerjoin(then, then.c.request_id == CitizenRequest.id).where(or_(
            and_(~changed, status_now),
            and_(changed, func.coalesce(then.c.status, "new").in_(open_statuses))))
    query = query.group_by(col(CitizenRequest.department_code)).order_by(
        col(CitizenRequest.department_code))
    return [dict(r._mapping) for r in session.execute(query)]


def duplicates_and_reopened(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """Confirmed duplicates and extra reporters in the cohort; contacts and reopenings
    recorded in the period on requests that pass the filters."""
    dup = select(
        func.count().label("requests"),
        count_if(col(CitizenRequest.duplicate_of_id).is_not(None)).label("duplicates"),
    ).where(*cohort(filters))
    row = session.execute(dup).one()
    matching = select(col(CitizenRequest.id)).where(*request_conditions(filters))
    in_period = [col(RequestEvent.at) >= filters.period.start,
                 col(RequestEvent.at) < filters.period.end,
                 col(RequestEvent.request_id).in_(matching)]
    contacts = session.execute(select(func.count()).where(
        col(RequestEvent.kind) == "contact", *in_period)).scalar_one()
    reopened = session.execute(select(func.count(func.distinct(RequestEvent.request_id))).where(
        col(RequestEvent.kind) == "status", col(RequestEvent.to_status) == "reopened",
        *in_period)).scalar_one()
    return {"requests": int(row.requests), "duplicates": int(row.duplicates),
            "repeat_contacts": int(contacts), "reopened": int(reopened)}
