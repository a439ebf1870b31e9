"""The rows the figures are computed from (today's calls, open requests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from callcenter.callrecords.models import Call
from callcenter.cases.models import OPEN_STATUSES, CitizenRequest
from callcenter.clock import as_utc
from callcenter.followups.models import Task, TaskKind
from callcenter.reference.models import Department
from callcenter.stats.services import (
    backlog,
    contact_figures,
    day_bounds,
    local_day,
)


def calls_between(*, session: Session, start: datetime, end: datetime) -> Sequence[Call]:
    return session.exec(
        select(Call).where(col(Call.entered_at) >= start, col(Call.entered_at) < end)
        .order_by(col(Call.entered_at))
    ).all()


def today_report(*, session: Session, now: datetime, timezone: str,
                 threshold_seconds: int) -> dict[str, Any]:
    """Today's figures, abandoned calls (with their callback task, if any) and backlog."""
    start, end = day_bounds(local_day(now, timezone), timezone)
    calls = calls_between(session=session, start=start, end=end)
    figures = contact_figures(calls, threshold_seconds=threshold_seconds)
    abandoned = [c for c in calls if c.direction == "inbound" and c.outcome == "abandoned"]
    linked = {t.call_linkedid for t in session.exec(
        select(Task).where(col(Task.call_linkedid).in_([c.linkedid for c in abandoned]),
                           col(Task.kind).in_([TaskKind.CALLBACK, TaskKind.ABANDONED]))
    ).all()} if abandoned else set()
    open_rows = session.exec(
        select(CitizenRequest).where(col(CitizenRequest.status).in_(
            [str(s) for s in OPEN_STATUSES]))
    ).all()
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    return {
        "figures": figures.as_dict(),
        "abandoned": [
            {"linkedid": c.linkedid, "caller": c.caller or "",
             "at": as_utc(c.entered_at).isoformat(), "wait_seconds": c.wait_seconds,
             "callback_task": c.linkedid in linked}
            for c in reversed(abandoned)
        ],
        "backlog": [
            {"department_code": line.department_code,
             "fa": departments[line.department_code].name_fa
             if line.department_code in departments else line.department_code,
             "en": departments[line.department_code].name_en
             if line.department_code in departments else line.department_code,
             "open": line.open, "overdue": line.overdue}
            for line in backlog(open_rows, now=now)
        ],
    }
