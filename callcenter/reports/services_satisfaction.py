"""The satisfaction report: surveys due, sent and answered, response rates by SMS and call,
CSAT (mean 1-5, share of 4-5) and the "not fixed" rate per department, category,
neighbourhood and agent, and their trend per bucket."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from callcenter.reports import queries_satisfaction as q
from callcenter.reports.filters import ReportFilters
from callcenter.reports.sqlbits import bucket_keys
from callcenter.reports.tables import Chart, Column, Report, Table, ratio

CSAT_COLUMNS = [
    Column("answers", "پاسخ", "Answers"),
    Column("csat_mean", "میانگین رضایت (۱ تا ۵)", "CSAT mean (1-5)", "float"),
    Column("csat_good_share", "سهم ۴ و ۵", "Share 4-5", "ratio"),
    Column("not_fixed_rate", "نرخ رفع‌نشده", "Not fixed rate", "ratio"),
]


def csat(line: dict[str, Any] | None) -> dict[str, Any]:
    """CSAT figures from one line of SQL sums (``None`` where nothing was answered)."""
    line = line or {}
    answers = int(line.get("answers") or 0)
    mean = line.get("mean")
    return {
        "answers": answers,
        "csat_mean": None if mean is None or not answers else float(mean),
        "csat_good_share": ratio(int(line.get("good") or 0), answers),
        "not_fixed_rate": ratio(int(line.get("not_fixed") or 0),
                                int(line.get("fixed_answers") or 0)),
    }


def _flow(session: Session, filters: ReportFilters) -> tuple[dict[str, Any], Table]:
    flow = q.survey_flow(session=session, filters=filters)
    table = Table("survey_flow", "نظرسنجی‌ها", "Surveys", [
        Column("channel", "کانال", "Channel", "text"), Column("due", "موعد", "Due"),
        Column("sent", "فرستاده", "Sent"), Column("answered", "پاسخ‌داده", "Answered"),
        Column("response_rate", "نرخ پاسخ", "Response rate", "ratio")])
    for channel in ("sms", "call"):
        sent, answered = flow[f"sent_{channel}"], flow[f"answered_{channel}"]
        table.rows.append({"channel": channel, "due": flow[f"due_{channel}"], "sent": sent,
                           "answered": answered, "response_rate": ratio(answered, sent)})
    return flow, table


def satisfaction(*, session: Session, filters: ReportFilters) -> Report:
    """Every satisfaction figure of the period (answers counted when they were given)."""
    flow, flow_table = _flow(session, filters)
    total = q.csat_by(session=session, filters=filters, by="total")
    head = {**flow, **csat(total[0] if total else None)}
    tables = [Table("csat_total", "رضایت در کل دوره", "CSAT, whole period", CSAT_COLUMNS,
                    [csat(total[0] if total else None)]), flow_table]
    for by, fa, en in (("department", "واحد", "Department"), ("category", "موضوع", "Category"),
                       ("neighbourhood", "محله", "Neighbourhood")):
        tables.append(Table(f"csat_{by}", f"رضایت بر پایه {fa}", f"CSAT by {en.lower()}",
                            [Column("value", fa, en, "text"), *CSAT_COLUMNS],
                            [{"value": line["v"] if line["v"] is not None else "-",
                              **csat(line)}
                             for line in q.csat_by(session=session, filters=filters, by=by)]))
    tables.append(Table("csat_agent", "رضایت بر پایه کارشناس", "CSAT by agent",
                        [Column("value", "کارشناس", "Agent", "text"), *CSAT_COLUMNS],
                        [{"value": line["v"], **csat(line)}
                         for line in q.csat_by_agent(session=session, filters=filters)]))
    trend = q.csat_trend(session=session, filters=filters)
    tables.append(Table("csat_trend", "روند رضایت", "CSAT trend",
                        [Column("bucket", "بازه", "Period", "text"), *CSAT_COLUMNS],
                        [{"bucket": label, **csat(trend.get(key))}
                         for key, label in bucket_keys(filters)]))
    return Report("satisfaction", head, tables, [
        Chart("csat_trend", "روند میانگین رضایت", "CSAT trend", "line", "csat_trend", "bucket",
              ("csat_mean",)),
        Chart("csat_department", "رضایت هر واحد", "CSAT per department", "bars",
              "csat_department", "value", ("csat_mean",)),
    ])
