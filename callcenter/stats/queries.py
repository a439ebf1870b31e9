"""The figures' store side: today's calls and the open requests, summed in SQL.

Every query here reads a bounded set through an index (today's calls, the open
requests' index entries): the supervisor's page must not grow with years of history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, case, cast, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import OPEN_STATUSES, CitizenRequest
from callcenter.clock import as_utc
from callcenter.followups.models import Task, TaskKind
from callcenter.reference.models import Department
from callcenter.stats.services import (
    OFFERED_OUTCOMES,
    BacklogLine,
    ContactFigures,
    OutcomeTotal,
    day_bounds,
    figures_from_totals,
    local_day,
)


def figures_between(*, session: Session, start: datetime, end: datetime,
                    threshold_seconds: int) -> ContactFigures:
    """``contact_figures`` of the calls that entered in [start, end), one GROUP BY."""
    wait = func.coalesce(col(Call.wait_seconds), 0.0)
    within = case((wait <= threshold_seconds, 1), else_=0)
    rows = session.execute(  # five columns: more than sqlmodel's select() types
        sa_select(col(Call.outcome), func.count(), func.sum(within), func.sum(wait),
                  func.sum(func.coalesce(col(Call.talk_seconds), 0.0)))
        .where(col(Call.entered_at) >= start, col(Call.entered_at) < end,
               col(Call.direction) == "inbound", col(Call.outcome).in_(sorted(OFFERED_OUTCOMES)))
        .group_by(col(Call.outcome))
    ).all()
    return figures_from_totals(
        [OutcomeTotal(outcome, int(n), int(w or 0), float(waits or 0), float(talks or 0))
         for outcome, n, w, waits, talks in rows],
        threshold_seconds=threshold_seconds)


def backlog_lines(*, session: Session, now: datetime) -> list[BacklogLine]:
    """Open requests per department and how many are past their deadline at ``now``
    (``stats.services.backlog`` in one GROUP BY, from the status/department index)."""
    overdue = case((col(CitizenRequest.deadline_at) < as_utc(now), 1), else_=0)
    rows = session.exec(
        select(CitizenRequest.department_code, func.count(), cast(func.sum(overdue), Integer))
        # literals, as the partial open-request index names them (SQLite uses it then)
        .where(col(CitizenRequest.status).in_(bindparam(
            "open_statuses", sorted(str(s) for s in OPEN_STATUSES), expanding=True,
            literal_execute=True)))
        .group_by(col(CitizenRequest.department_code))
    ).all()
    # sorted here: the database's collation may order codes differently from Python
    return sorted((BacklogLine(code, int(n), int(late or 0)) for code, n, late in rows),
                  key=lambda line: line.department_code)


def today_report(*, session: Session, now: datetime, timezone: str,
                 threshold_seconds: int) -> dict[str, Any]:
    """Today's figures, abandoned calls (with their callback task, if any) and backlog."""
    start, end = day_bounds(local_day(now, timezone), timezone)
    figures = figures_between(session=session, start=start, end=end,
                              threshold_seconds=threshold_seconds)
    # each abandoned call with whether it has a callback task: one query, an EXISTS
    # probe of the task's linkedid index per call (no IN list of today's linkedids)
    has_task = (sa_select(col(Task.id))
                .where(col(Task.call_linkedid) == col(Call.linkedid),
                       col(Task.kind).in_([TaskKind.CALLBACK, TaskKind.ABANDONED]))
                .exists())
    abandoned = session.execute(
        sa_select(col(Call.linkedid), col(Call.caller), col(Call.entered_at),
                  col(Call.wait_seconds), has_task)
        .where(col(Call.entered_at) >= start, col(Call.entered_at) < end,
               col(Call.direction) == "inbound", col(Call.outcome) == "abandoned")
        .order_by(col(Call.entered_at).desc(), col(Call.id).desc())
    ).all()
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    return {
        "figures": figures.as_dict(),
        "abandoned": [
            {"linkedid": linkedid, "caller": caller or "",
             "at": as_utc(entered_at).isoformat(), "wait_seconds": wait,
             "callback_task": bool(linked)}
            for linkedid, caller, entered_at, wait, linked in abandoned
        ],
        "backlog": [
            {"department_code": line.department_code,
             "fa": departments[line.department_code].name_fa
             if line.department_code in departments else line.department_code,
             "en": departments[line.department_code].name_en
             if line.department_code in departments else line.department_code,
             "open": line.open, "overdue": line.overdue}
            for line in backlog_lines(session=session, now=now)
        ],
    }
