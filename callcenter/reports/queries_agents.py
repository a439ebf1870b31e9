"""SQL over the agent state history (``agent_state_event``): time in each state per
agent, clipped to the period, and rings not answered.

A state lasts from its row to the agent's next state row (``LEAD``); the last one
lasts until the period's end or ``now``, whichever is first. A state entered before
the period counts from the period's start; rows more than ``LOOKBACK`` before the
period are not read (a state open that long, e.g. a forgotten login, is cut there).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlmodel import Session, col

from callcenter.agent_history.models import AgentStateEvent
from callcenter.reports.filters import ReportFilters
from callcenter.reports.sqlbits import epoch_seconds

LOOKBACK = timedelta(days=7)


def state_seconds(*, session: Session, filters: ReportFilters,
                  now: datetime) -> list[dict[str, Any]]:
    """``{agent, state, reason, seconds}`` per agent, state and break reason (time
    logged out is not counted)."""
    start = filters.period.start
    end = min(filters.period.end, now)
    if end <= start:
        return []
    e = AgentStateEvent
    rows = select(
        col(e.extension).label("agent"), col(e.state).label("state"),
        col(e.reason).label("reason"), epoch_seconds(e.at).label("since"),
        func.lead(epoch_seconds(e.at)).over(
            partition_by=e.extension, order_by=(col(e.at), col(e.id))).label("until"),
    ).where(col(e.kind) == "state", col(e.at) >= start - LOOKBACK,
            col(e.at) < end).subquery()
    first, last = int(start.timestamp()), int(end.timestamp())
    until = func.coalesce(rows.c.until, literal(last))
    clipped_until = case((until < last, until), else_=literal(last))
    clipped_since = case((rows.c.since > first, rows.c.since), else_=literal(first))
    spans = select(rows.c.agent, rows.c.state, rows.c.reason,
                   (clipped_until - clipped_since).label("seconds")).subquery()
    query = select(spans.c.agent, spans.c.state, spans.c.reason,
                   func.sum(spans.c.seconds).label("seconds")).where(
        spans.c.seconds > 0, spans.c.state != "logged_out",
    ).group_by(spans.c.agent, spans.c.state, spans.c.reason)
    return [{"agent": r.agent, "state": r.state, "reason": r.reason or "",
             "seconds": int(r.seconds)} for r in session.execute(query)]


def rings_not_answered(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """Rings each agent let go unanswered in the period (AMI ``AgentRingNoAnswer``)."""
    e = AgentStateEvent
    query: Any = select(col(e.extension), func.count()).where(
        col(e.kind) == "ring_no_answer", col(e.at) >= filters.period.start,
        col(e.at) < filters.period.end).group_by(col(e.extension))
    return {str(agent): int(n) for agent, n in session.execute(query)}
