"""SQL aggregates over surveys: the survey tasks, the contacts made, the answers.

An answer lives on the request (``survey_rating``, ``survey_fixed``, ``survey_channel``,
``survey_at``); a survey counts in the period its answer (``survey_at``) falls in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal, select
from sqlmodel import Session, col

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest
from callcenter.followups.models import ContactAttempt, ContactDecision, Task, TaskKind
from callcenter.reports.filters import ReportFilters, request_conditions
from callcenter.reports.queries_requests import dimension
from callcenter.reports.sqlbits import count_if, time_key

SURVEY_TASKS = (TaskKind.SURVEY_SMS, TaskKind.SURVEY_CALL)
GOOD_RATING = 4  # CSAT "satisfied": a rating of 4 or 5


def _matching_requests(filters: ReportFilters) -> Any:
    return select(col(CitizenRequest.id)).where(*request_conditions(filters))


def answered_in_period(filters: ReportFilters) -> list[Any]:
    return [col(CitizenRequest.survey_at) >= filters.period.start,
            col(CitizenRequest.survey_at) < filters.period.end,
            *request_conditions(filters)]


def survey_flow(*, session: Session, filters: ReportFilters) -> dict[str, int]:
    """Surveys due (tasks due in the period), sent per channel, answered per channel."""
    matching = _matching_requests(filters)
    due = session.execute(select(count_if(col(Task.kind) == TaskKind.SURVEY_SMS),
                                 count_if(col(Task.kind) == TaskKind.SURVEY_CALL)).where(
        col(Task.kind).in_([str(k) for k in SURVEY_TASKS]),
        col(Task.due_at) >= filters.period.start, col(Task.due_at) < filters.period.end,
        col(Task.request_id).in_(matching))).one()
    survey_tasks = select(col(Task.id)).where(col(Task.kind).in_([str(k) for k in SURVEY_TASKS]),
                                              col(Task.request_id).in_(matching))
    sent = session.execute(select(count_if(col(ContactAttempt.channel) == "sms"),
                                  count_if(col(ContactAttempt.channel) == "voice")).where(
        col(ContactAttempt.decision) == ContactDecision.SENT,
        col(ContactAttempt.at) >= filters.period.start,
        col(ContactAttempt.at) < filters.period.end,
        col(ContactAttempt.task_id).in_(survey_tasks))).one()
    answered = session.execute(select(
        count_if(col(CitizenRequest.survey_channel) == "sms"),
        count_if(col(CitizenRequest.survey_channel) != "sms"),
    ).where(*answered_in_period(filters), col(CitizenRequest.survey_rating).is_not(None)
            )).one()
    return {"due_sms": int(due[0]), "due_call": int(due[1]),
            "sent_sms": int(sent[0]), "sent_call": int(sent[1]),
            "answered_sms": int(answered[0]), "answered_call": int(answered[1])}


def _csat(session: Session, rows: Any) -> list[dict[str, Any]]:
    """Per ``rows.c.v``: answers, mean rating, 4-5 answers, "fixed?" answers, "not fixed"."""
    query = select(
        rows.c.v, count_if(rows.c.r.is_not(None)).label("answers"),
        func.avg(rows.c.r).label("mean"), count_if(rows.c.r >= GOOD_RATING).label("good"),
        count_if(rows.c.f.is_not(None)).label("fixed_answers"),
        count_if(rows.c.f.is_(False)).label("not_fixed"),
    ).group_by(rows.c.v).order_by(rows.c.v)
    return [dict(r._mapping) for r in session.execute(query)]


def _answers(key: Any) -> Any:
    return select(key.label("v"), col(CitizenRequest.survey_rating).label("r"),
                  col(CitizenRequest.survey_fixed).label("f"))


def csat_by(*, session: Session, filters: ReportFilters, by: str) -> list[dict[str, Any]]:
    """CSAT figures per value of the dimension ``by`` (``total``: one line)."""
    key = dimension(by) if by != "total" else literal("total")
    return _csat(session, _answers(key).where(*answered_in_period(filters)).subquery())


def csat_by_agent(*, session: Session, filters: ReportFilters) -> list[dict[str, Any]]:
    """The same per agent who answered the request's first answered call."""
    first_call = select(col(Call.request_id).label("request_id"),
                        func.min(Call.id).label("call_id")).where(
        col(Call.outcome) == "answered", col(Call.agent).is_not(None),
        col(Call.request_id).is_not(None)).group_by(col(Call.request_id)).subquery()
    rows = (_answers(col(Call.agent)).select_from(CitizenRequest)
            .join(first_call, first_call.c.request_id == CitizenRequest.id)
            .join(Call, col(Call.id) == first_call.c.call_id)
            .where(*answered_in_period(filters)).subquery())
    return _csat(session, rows)


def csat_trend(*, session: Session, filters: ReportFilters) -> dict[Any, dict[str, Any]]:
    """CSAT per bucket of the answer's time (a monthly trend with month buckets)."""
    rows = _answers(time_key(filters, CitizenRequest.survey_at)).where(
        *answered_in_period(filters)).subquery()
    return {line["v"]: line for line in _csat(session, rows)}
