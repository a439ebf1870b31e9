"""SQL aggregates for neighbourhood needs: the neighbourhood x category table, rising
problems against earlier periods, and the biggest duplicate clusters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from callcenter.cases.models import CitizenRequest
from callcenter.reports import rollups
from callcenter.reports.filters import ReportFilters, request_conditions
from callcenter.reports.periods import Bucket
from callcenter.reports.queries_requests import cohort
from callcenter.reports.sqlbits import bucket_index


def matrix(*, session: Session, filters: ReportFilters) -> list[tuple[str, str, int]]:
    """``(neighbourhood, category, requests)`` for the cohort (no neighbourhood: ``-``);
    from the daily roll-up when it holds every day of the period."""
    if rollups.covers(session, filters):
        return rollups.matrix(session=session, filters=filters)
    place = col(CitizenRequest.neighbourhood_code)
    query = select(place, col(CitizenRequest.category_code), func.count()).where(
        *cohort(filters)).group_by(place, col(CitizenRequest.category_code))
    return [(p or "-", str(c), int(n)) for p, c, n in session.execute(query)]


def pair_history(*, session: Session, filters: ReportFilters,
                 earlier: int) -> list[tuple[str, str, int, int]]:
    """``(neighbourhood, category, k, requests)`` for this period (k = ``earlier``) and the
    ``earlier`` periods of the same length before it (k = 0 the oldest)."""
    periods = [filters.period.shifted(k - earlier) for k in range(earlier + 1)]
    series = [Bucket(str(k), p.start, p.end) for k, p in enumerate(periods)]
    rows = select(
        bucket_index(CitizenRequest.created_at, series).label("k"),
        col(CitizenRequest.neighbourhood_code).label("place"),
        col(CitizenRequest.category_code).label("category"),
    ).where(col(CitizenRequest.created_at) >= periods[0].start,
            col(CitizenRequest.created_at) < filters.period.end,
            col(CitizenRequest.neighbourhood_code).is_not(None),
            *request_conditions(filters)).subquery()
    query = select(rows.c.place, rows.c.category, rows.c.k, func.count()).group_by(
        rows.c.place, rows.c.category, rows.c.k)
    return [(str(p), str(c), int(k), int(n)) for p, c, k, n in session.execute(query)]


def clusters(*, session: Session, filters: ReportFilters,
             limit: int = 10) -> list[dict[str, Any]]:
    """Requests of the cohort that several citizens reported (duplicates linked to them)."""
    query: Any = select(
        col(CitizenRequest.tracking_code).label("tracking_code"),
        col(CitizenRequest.category_code).label("category"),
        col(CitizenRequest.neighbourhood_code).label("neighbourhood"),
        col(CitizenRequest.status).label("status"),
        col(CitizenRequest.reporter_count).label("reporters"),
    ).where(*cohort(filters), col(CitizenRequest.duplicate_of_id).is_(None),
            col(CitizenRequest.reporter_count) > 1,
            ).order_by(col(CitizenRequest.reporter_count).desc(),
                       col(CitizenRequest.id)).limit(limit)
    return [dict(r._mapping) for r in session.execute(query)]
