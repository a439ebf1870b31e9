"""The requests report: volume over time per channel/category/department/place, the status
funnel, times to first action and to resolution, deadlines met, backlog ageing,
duplicates, repeat contacts and reopenings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from callcenter.cases.models import RequestStatus
from callcenter.reports import queries_requests as q
from callcenter.reports.filters import ReportFilters
from callcenter.reports.sqlbits import bucket_keys
from callcenter.reports.tables import Chart, Column, Report, Table, ratio

DIMENSION_FA = {"channel": "کانال", "category": "موضوع", "department": "واحد",
                "neighbourhood": "محله", "district": "منطقه"}
DEPARTMENT = Column("department", "واحد", "Department", "text")
FUNNEL = (RequestStatus.NEW, RequestStatus.REFERRED, RequestStatus.IN_PROGRESS,
          RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.REOPENED,
          RequestStatus.REJECTED, RequestStatus.DUPLICATE)


def volume_table(*, session: Session, filters: ReportFilters, by: str) -> Table:
    """Requests per bucket (rows) and value of ``by`` (columns), with a total column."""
    found = q.volume(session=session, filters=filters, by=by)
    values = sorted({value for _, value, _ in found})
    counts = {(bucket, value): n for bucket, value, n in found}
    table = Table(f"volume_{by}", f"درخواست‌ها بر پایه {DIMENSION_FA[by]}", f"Requests by {by}",
                  [Column("bucket", "بازه", "Period", "text"),
                   *(Column(v, v, v) for v in values), Column("total", "جمع", "Total")])
    for key, label in bucket_keys(filters):
        row: dict[str, Any] = {"bucket": label}
        row.update({value: counts.get((key, value), 0) for value in values})
        row["total"] = sum(counts.get((key, value), 0) for value in values)
        table.rows.append(row)
    return table


def _durations(lines: list[dict[str, Any]], key: str, fa: str, en: str) -> Table:
    return Table(key, fa, en, [
        DEPARTMENT, Column("n", "تعداد", "Requests"),
        Column("median_hours", "میانه (ساعت)", "Median (h)", "float"),
        Column("p90_hours", "صدک ۹۰ (ساعت)", "p90 (h)", "float")],
        [{"department": line["department"], "n": int(line["n"]),
          "median_hours": _hours(line["median"]), "p90_hours": _hours(line["p90"])}
         for line in lines])


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def _by_dimension(session: Session, filters: ReportFilters) -> Table:
    table = Table("volume_totals", "حجم بر پایه موضوع، واحد و محله",
                  "Requests by category, department, place", [
        Column("dimension", "بعد", "Dimension", "text"), Column("value", "مقدار", "Value", "text"),
        Column("requests", "درخواست", "Requests")])
    for by in ("category", "department", "neighbourhood", "district"):
        found = q.volume(session=session, filters=filters, by=by, by_bucket=False)
        table.rows.extend({"dimension": by, "value": value, "requests": n}
                          for _, value, n in sorted(found, key=lambda line: line[1]))
    return table


def _funnel(session: Session, filters: ReportFilters) -> Table:
    now_status = q.status_now(session=session, filters=filters)
    reached = q.status_reached(session=session, filters=filters)
    created = sum(now_status.values())
    funnel = Table("status_funnel", "قیف وضعیت", "Status funnel", [
        Column("status", "وضعیت", "Status", "text"), Column("now", "اکنون", "Now"),
        Column("reached", "رسیده", "Ever reached"),
        Column("reached_share", "سهم", "Share reached", "ratio")])
    for status in FUNNEL:
        ever = created if status == RequestStatus.NEW else reached.get(status, 0)
        funnel.rows.append({"status": str(status), "now": now_status.get(status, 0),
                            "reached": ever, "reached_share": ratio(ever, created)})
    return funnel


def _deadlines(session: Session, filters: ReportFilters) -> Table:
    table = Table("deadlines", "رعایت مهلت", "Deadlines met", [
        DEPARTMENT, Column("resolved", "رسیدگی‌شده", "Resolved"), Column("met", "در مهلت", "Met"),
        Column("met_share", "سهم در مهلت", "Share met", "ratio"),
        Column("late", "دیرکرد", "Late"),
        Column("late_mean_hours", "میانگین دیرکرد (ساعت)", "Mean lateness (h)", "float"),
        Column("late_max_hours", "بیشترین دیرکرد (ساعت)", "Max lateness (h)", "float")])
    for line in q.deadlines(session=session, filters=filters):
        table.rows.append({
            "department": line["department"], "resolved": int(line["resolved"]),
            "met": int(line["met"]), "met_share": ratio(int(line["met"]), int(line["resolved"])),
            "late": int(line["late"]), "late_mean_hours": _hours(line["late_mean_seconds"]),
            "late_max_hours": _hours(line["late_max_seconds"])})
    return table


def _ageing(session: Session, filters: ReportFilters, now: datetime) -> Table:
    return Table("backlog_ageing", "سن درخواست‌های باز در پایان دوره",
                 "Backlog ageing at the period's end", [
        DEPARTMENT, Column("open", "باز", "Open"), Column("under_1d", "زیر ۱ روز", "< 1 day"),
        Column("d1_3", "۱ تا ۳ روز", "1-3 days"), Column("d3_7", "۳ تا ۷ روز", "3-7 days"),
        Column("over_7d", "بیش از ۷ روز", "> 7 days"),
        Column("past_deadline", "گذشته از مهلت", "Past deadline")],
        [{k: (int(v) if k != "department" else v) for k, v in line.items()}
         for line in q.backlog_ageing(session=session, filters=filters, now=now)])


def requests_report(*, session: Session, filters: ReportFilters, now: datetime) -> Report:
    """Every request figure of the period (backlog ageing at the period's end, or
    ``now`` when that is sooner)."""
    channel = volume_table(session=session, filters=filters, by="channel")
    extra = q.duplicates_and_reopened(session=session, filters=filters)
    head = {**extra, "duplicate_share": ratio(extra["duplicates"], extra["requests"])}
    summary = Table("requests_summary", "خلاصه", "Summary", [
        Column("requests", "درخواست تازه", "Requests filed"),
        Column("duplicates", "تکراری تأییدشده", "Confirmed duplicates"),
        Column("duplicate_share", "سهم تکراری", "Duplicate share", "ratio"),
        Column("repeat_contacts", "تماس دوباره", "Repeat contacts"),
        Column("reopened", "بازگشایی‌شده", "Reopened")], [head])
    first = _durations(q.first_action_times(session=session, filters=filters),
                       "first_action", "زمان تا نخستین اقدام", "Time to first action")
    resolution = _durations(q.resolution_times(session=session, filters=filters),
                            "resolution", "زمان تا رسیدگی", "Time to resolution")
    tables = [summary, channel, _by_dimension(session, filters), _funnel(session, filters),
              first, resolution, _deadlines(session, filters), _ageing(session, filters, now)]
    return Report("requests", head, tables, [
        Chart("channel_mix", "سهم هر کانال", "Channel mix", "stacked", "volume_channel",
              "bucket", tuple(c.key for c in channel.columns[1:-1])),
        Chart("volume", "درخواست‌ها در هر بازه", "Requests per period", "bars",
              "volume_channel", "bucket", ("total",)),
    ])
