"""SQL aggregates over the call records (``call``): every count is a ``SUM``/``COUNT``.

The definitions are those of ``callcenter/stats`` (the supervisor page): offered =
inbound calls with an outcome in ``OFFERED_OUTCOMES``; see ``docs/metrics.md``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session, col

from callcenter.callrecords.models import Call
from callcenter.followups.models import Task, TaskKind
from callcenter.reports.filters import ReportFilters, call_conditions
from callcenter.reports.sqlbits import count_if, epoch_seconds, one_if, time_key
from callcenter.stats.services import OFFERED_OUTCOMES

WAIT_EDGES = (20, 60, 120)  # wait distribution: 0-20, 20-60, 60-120, 120+ seconds


def contact_sums(*, session: Session, filters: ReportFilters, threshold_seconds: int,
                 short_abandon_seconds: int, by_bucket: bool) -> dict[Any, dict[str, Any]]:
    """Raw sums of the contact-center figures, per bucket key (or ``None`` for the total)."""
    key = time_key(filters, Call.entered_at) if by_bucket else literal(None)
    rows = select(
        key.label("b"), col(Call.outcome).label("outcome"),
        func.coalesce(Call.wait_seconds, 0.0).label("wait"),
        func.coalesce(Call.talk_seconds, 0.0).label("talk"),
    ).where(*call_conditions(filters),
            col(Call.outcome).in_(sorted(OFFERED_OUTCOMES))).subquery()
    answered = rows.c.outcome == "answered"
    abandoned = rows.c.outcome == "abandoned"
    query = select(
        rows.c.b,
        func.count().label("offered"),
        count_if(answered).label("answered"),
        count_if(abandoned).label("abandoned"),
        count_if(and_(abandoned, rows.c.wait < short_abandon_seconds)).label("short_abandons"),
        count_if(rows.c.outcome == "callback").label("callbacks"),
        count_if(rows.c.outcome == "missed").label("missed"),
        count_if(and_(answered, rows.c.wait <= threshold_seconds)).label("within"),
        func.coalesce(func.sum(one_if(answered) * rows.c.wait), 0).label("wait_answered"),
        func.coalesce(func.sum(one_if(answered) * rows.c.talk), 0).label("talk_answered"),
        func.max(rows.c.wait).label("longest_wait"),
        count_if(rows.c.wait < WAIT_EDGES[0]).label("wait_0_20"),
        count_if(and_(rows.c.wait >= WAIT_EDGES[0], rows.c.wait < WAIT_EDGES[1]))
        .label("wait_20_60"),
        count_if(and_(rows.c.wait >= WAIT_EDGES[1], rows.c.wait < WAIT_EDGES[2]))
        .label("wait_60_120"),
        count_if(rows.c.wait >= WAIT_EDGES[2]).label("wait_120_plus"),
    ).group_by(rows.c.b)
    return {row.b: dict(row._mapping) for row in session.execute(query)}


def per_queue(*, session: Session, filters: ReportFilters,
              threshold_seconds: int) -> list[dict[str, Any]]:
    """Offered, answered, abandoned and answered within the threshold, per queue."""
    query = select(
        col(Call.queue).label("queue"), func.count().label("offered"),
        count_if(col(Call.outcome) == "answered").label("answered"),
        count_if(col(Call.outcome) == "abandoned").label("abandoned"),
        count_if(and_(col(Call.outcome) == "answered",
                      func.coalesce(Call.wait_seconds, 0.0) <= threshold_seconds))
        .label("within"),
    ).where(*call_conditions(filters), col(Call.outcome).in_(sorted(OFFERED_OUTCOMES))
            ).group_by(col(Call.queue)).order_by(col(Call.queue))
    # GROUP BY a bare column: PostgreSQL refuses an expression with bound parameters
    # in both SELECT and GROUP BY (they are two parameters to it).
    return [{**row._mapping, "queue": row.queue or "-"} for row in session.execute(query)]


def per_agent(*, session: Session, filters: ReportFilters) -> list[dict[str, Any]]:
    """Calls answered and talk time of the calls each agent answered."""
    query: Any = select(
        col(Call.agent).label("agent"), func.count().label("answered"),
        func.coalesce(func.sum(Call.talk_seconds), 0.0).label("talk_seconds"),
    ).where(*call_conditions(filters), col(Call.outcome) == "answered",
            col(Call.agent).is_not(None)).group_by(col(Call.agent)).order_by(col(Call.agent))
    return [dict(row._mapping) for row in session.execute(query)]


IVR_BRANCHES = (("new_request", "menu:1%"), ("follow_up", "menu:2%"), ("agent", "menu:%"))


def ivr_branches(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """Inbound calls per first menu choice (1 new request, 2 follow-up, other: agent)."""
    branch = case(*((col(Call.ivr_path).like(pattern), name)
                    for name, pattern in IVR_BRANCHES), else_="none")
    rows = select(branch.label("branch")).where(*call_conditions(filters)).subquery()
    query = select(rows.c.branch, func.count().label("calls")).group_by(rows.c.branch)
    found = {row.branch: row.calls for row in session.execute(query)}
    return {name: int(found.get(name, 0)) for name, _ in (*IVR_BRANCHES, ("none", ""))}


def ivr_exits(*, session: Session, filters: ReportFilters) -> list[tuple[str, int]]:
    """Calls that ended in the IVR, per IVR path (the caller maps paths to last steps)."""
    query: Any = select(col(Call.ivr_path), func.count()).where(
        *call_conditions(filters), col(Call.outcome) == "ivr_only",
    ).group_by(col(Call.ivr_path))
    return [(path or "", int(calls)) for path, calls in session.execute(query)]


def survey_calls(*, session: Session, filters: ReportFilters) -> int:
    """Outbound survey calls placed in the period (the IVR's survey branch)."""
    query = select(func.count()).where(
        col(Call.direction) == "outbound", col(Call.ivr_path).like("survey%"),
        col(Call.entered_at) >= filters.period.start, col(Call.entered_at) < filters.period.end)
    return int(session.execute(query).scalar_one())


def repeat_callers(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """Calls in the period from a number that had called within 24 h / 7 days before."""
    week = 7 * 86400
    seen = select(
        col(Call.entered_at).label("at"),
        (epoch_seconds(Call.entered_at) - func.lag(epoch_seconds(Call.entered_at)).over(
            partition_by=Call.caller, order_by=(col(Call.entered_at), col(Call.id)))).label("gap"),
    ).where(col(Call.direction) == "inbound", col(Call.caller).is_not(None),
            col(Call.entered_at) >= filters.period.start - timedelta(seconds=week),
            col(Call.entered_at) < filters.period.end).subquery()
    query = select(
        func.count().label("calls"),
        count_if(seen.c.gap <= 86400).label("repeat_24h"),
        count_if(seen.c.gap <= week).label("repeat_7d"),
    ).where(seen.c.at >= filters.period.start)
    row = session.execute(query).one()
    return {"calls": int(row.calls), "repeat_24h": int(row.repeat_24h),
            "repeat_7d": int(row.repeat_7d)}


def abandoned_list(*, session: Session, filters: ReportFilters,
                   limit: int = 1000) -> list[dict[str, Any]]:
    """Abandoned calls with the number, wait and whether a callback task was made."""
    called_back = select(col(Task.id)).where(
        col(Task.call_linkedid) == Call.linkedid,
        col(Task.kind).in_([TaskKind.CALLBACK, TaskKind.ABANDONED])).exists()
    query = select(col(Call.linkedid), col(Call.caller), col(Call.entered_at),
                   col(Call.wait_seconds),
                   called_back.label("called_back")).where(
        *call_conditions(filters), col(Call.outcome) == "abandoned",
    ).order_by(col(Call.entered_at).desc()).limit(limit)
    return [dict(row._mapping) for row in session.execute(query)]
