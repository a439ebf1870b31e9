"""Requests, satisfaction and neighbourhood-needs figures against hand-counted rows, on
every backend; filters combined; local-midnight cohort edges (Tehran = UTC+03:30)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlmodel import Session

from callcenter.callrecords.models import Call
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.citizens.models import Citizen
from callcenter.followups.models import ContactAttempt, Task
from callcenter.reference.services import populations
from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import month_period
from callcenter.reports.services import build_report
from callcenter.settings import Settings

TZ = "Asia/Tehran"
ESFAND = month_period("1403-12", TZ)  # 2025-02-18 20:30 UTC .. 2025-03-20 20:30 UTC
NOW = datetime(2025, 3, 21, 12, 0, tzinfo=UTC)
_codes = count(1000000)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def citizen(session: Session) -> int:
    row = Citizen(phone=f"+98913{next(_codes) % 10000000:07d}")
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def request(session: Session, created: str, *, channel: str = "phone", category: str = "waste",
            department: str = "waste", place: str | None = "fahadan", status: str = "new",
            resolved_after_h: float | None = None, deadline_h: float | None = 24,
            rating: int | None = None, fixed: bool | None = None, survey_channel: str = "sms",
            reporters: int = 1, duplicate_of: int | None = None) -> CitizenRequest:
    made = at(created)
    row = CitizenRequest(
        tracking_code=str(next(_codes)), citizen_id=citizen(session), channel=channel,
        category_code=category, department_code=department, neighbourhood_code=place,
        status=status, created_at=made, reporter_count=reporters, duplicate_of_id=duplicate_of,
        deadline_at=None if deadline_h is None else made + timedelta(hours=deadline_h),
        resolved_at=None if resolved_after_h is None else made + timedelta(hours=resolved_after_h),
        survey_rating=rating, survey_fixed=fixed,
        survey_channel=survey_channel if rating is not None else None,
        survey_at=made + timedelta(days=1) if rating is not None else None)
    session.add(row)
    session.flush()
    return row


def event(session: Session, row: CitizenRequest, hours: float, to_status: str,
          kind: str = "status") -> None:
    assert row.id is not None
    session.add(RequestEvent(request_id=row.id, at=row.created_at + timedelta(hours=hours),
                             kind=kind, to_status=to_status if kind == "status" else None))
    session.flush()


def build(session: Session, name: str, **filters: object):  # type: ignore[no-untyped-def]
    return build_report(name, session=session, filters=ReportFilters(period=ESFAND, **filters),
                        settings=Settings(environment="test", ami_enabled=False), now=NOW)


def test_volume_channel_mix_and_cohort_edges(session: Session) -> None:
    request(session, "2025-02-18 20:30:00")  # 1403-12-01 00:00 local: in
    request(session, "2025-02-18 20:29:59")  # 1403-11-30 23:59:59 local: out
    request(session, "2025-03-20 20:29:59", channel="sms")  # 1403-12-30 23:59:59: in
    request(session, "2025-03-20 20:30:00", channel="sms")  # 1404-01-01: out
    request(session, "2025-03-01 08:00:00", channel="app", category="parks",
            department="parks", place="yaghoubi")
    report = build(session, "requests")
    rows = {row["bucket"]: row for row in report.table("volume_channel").rows}
    assert len(rows) == 30
    assert rows["1403-12-01"]["phone"] == 1 and rows["1403-12-01"]["total"] == 1
    assert rows["1403-12-30"]["sms"] == 1
    assert rows["1403-12-11"]["app"] == 1
    assert sum(row["total"] for row in rows.values()) == 3
    totals = {(r["dimension"], r["value"]): r["requests"]
              for r in report.table("volume_totals").rows}
    assert totals[("district", "1")] == 2 and totals[("district", "2")] == 1
    assert totals[("category", "waste")] == 2 and totals[("department", "parks")] == 1


def test_funnel_times_deadlines_and_backlog(session: Session) -> None:
    # Four waste requests: first status change after 1, 2, 3 and 10 hours; three
    # resolved after 10, 20 and 30 hours against a 24 h deadline (met, met, 6 h late).
    made = []
    for first_h, resolved_h in ((1, 10), (2, 20), (3, 30), (10, None)):
        row = request(session, "2025-03-01 08:00:00", resolved_after_h=resolved_h,
                      status="resolved" if resolved_h else "referred")
        event(session, row, first_h, "referred")
        if resolved_h:
            event(session, row, resolved_h, "resolved")
        made.append(row)
    event(session, made[0], 40, "reopened")
    report = build(session, "requests")
    funnel = {r["status"]: r for r in report.table("status_funnel").rows}
    assert funnel["new"]["reached"] == 4
    assert funnel["referred"]["reached"] == 4 and funnel["resolved"]["reached"] == 3
    assert funnel["resolved"]["reached_share"] == pytest.approx(0.75)
    assert funnel["reopened"]["reached"] == 1 and funnel["closed"]["reached_share"] == 0
    (first,) = report.table("first_action").rows
    # nearest rank: median = rank ceil(4/2)=2 -> 2 h; p90 = rank ceil(3.6)=4 -> 10 h
    assert (first["n"], first["median_hours"], first["p90_hours"]) == (4, 2.0, 10.0)
    (resolution,) = report.table("resolution").rows
    assert (resolution["n"], resolution["median_hours"], resolution["p90_hours"]) == (
        3, 20.0, 30.0)
    (deadline,) = report.table("deadlines").rows
    assert (deadline["resolved"], deadline["met"], deadline["late"]) == (3, 2, 1)
    assert deadline["met_share"] == pytest.approx(2 / 3)
    assert deadline["late_mean_hours"] == pytest.approx(6.0)
    assert report.figures["reopened"] == 1
    # Backlog at the period's end (1403-12-30 24:00, before NOW): the referred request
    # and the one reopened at +40 h (its history says so), both ~20 days old and late.
    (ageing,) = report.table("backlog_ageing").rows
    assert (ageing["open"], ageing["over_7d"], ageing["past_deadline"]) == (2, 2, 2)


def test_backlog_ageing_as_of_the_period_end(session: Session) -> None:
    later = at("2025-04-01 12:00:00")
    a = request(session, "2025-03-10 08:00:00", status="resolved")  # resolved after the end
    event(session, a, 0, "new", kind="created")
    event(session, a, 0.5, "referred")
    session.add(RequestEvent(request_id=a.id, at=at("2025-03-25 08:00:00"), kind="status",
                             to_status="resolved"))
    request(session, "2025-03-19 08:00:00")  # new, no history line: open since filing
    request(session, "2025-03-22 08:00:00")  # filed after the end
    d = request(session, "2025-03-05 08:00:00", status="resolved")
    event(session, d, 20, "resolved")  # resolved inside the period
    # Not changed since 03-13 (``updated_at``): its status now is its status then -
    # resolved, though it has no history line (the history alone would say "new").
    e = request(session, "2025-03-12 08:00:00", status="resolved")
    e.updated_at = at("2025-03-13 08:00:00")
    session.add(e)
    session.flush()
    report = build_report("requests", session=session, filters=ReportFilters(period=ESFAND),
                          settings=Settings(environment="test", ami_enabled=False), now=later)
    (ageing,) = report.table("backlog_ageing").rows
    # At 2025-03-20 20:30 UTC: a is 10.5 days old (open then), the 03-19 one 1.5 days.
    assert {k: ageing[k] for k in ("open", "under_1d", "d1_3", "d3_7", "over_7d",
                                   "past_deadline")} == {
        "open": 2, "under_1d": 0, "d1_3": 1, "d3_7": 0, "over_7d": 1, "past_deadline": 2}
    # A period not over yet (1404-01, now 2025-03-25 12:00) reads today's statuses: a is
    # resolved; the 03-19 and 03-22 ones are open, 6.2 and 3.2 days old.
    farvardin = month_period("1404-01", TZ)
    report = build_report("requests", session=session,
                          filters=ReportFilters(period=farvardin),
                          settings=Settings(environment="test", ami_enabled=False),
                          now=at("2025-03-25 12:00:00"))
    (ageing,) = report.table("backlog_ageing").rows
    assert (ageing["open"], ageing["d3_7"]) == (2, 2)


def test_duplicates_clusters_and_rising(session: Session) -> None:
    root = request(session, "2025-03-02 08:00:00", reporters=3, category="streets",
                   department="streets")
    for _ in range(2):
        request(session, "2025-03-02 09:00:00", status="duplicate", duplicate_of=root.id,
                category="streets", department="streets")
    # Rising: 6 waste requests in Fahadan this period (plus the root's streets trio),
    # 1 in each of the three earlier 30-day periods: mean 1, 6 >= 2 x 1 and 6 - 1 >= 3.
    for _ in range(5):
        request(session, "2025-03-10 08:00:00")
    request(session, "2025-03-10 09:00:00")
    for earlier in (1, 2, 3):
        request(session, (datetime(2025, 3, 10, 8) - timedelta(days=30 * earlier)).isoformat())
    report = build(session, "needs")
    matrix = {r["neighbourhood"]: r for r in report.table("needs_matrix").rows}
    assert matrix["fahadan"]["waste"] == 6 and matrix["fahadan"]["streets"] == 3
    rising = report.table("rising").rows
    assert [(r["neighbourhood"], r["category"], r["count"], r["baseline"]) for r in rising] == [
        ("fahadan", "waste", 6, 1.0), ("fahadan", "streets", 3, 0.0)]
    (cluster,) = report.table("clusters").rows
    assert cluster["reporters"] == 3 and cluster["tracking_code"] == root.tracking_code
    requests = build(session, "requests").figures
    assert requests["duplicates"] == 2 and requests["requests"] == 9


def test_per_1000_residents(session: Session) -> None:
    request(session, "2025-03-02 08:00:00")
    request(session, "2025-03-02 08:00:00")
    report = build_report("needs", session=session, filters=ReportFilters(period=ESFAND),
                          settings=Settings(environment="test"), now=NOW,
                          populations={"fahadan": 4000})
    (row,) = report.table("needs_per_1000").rows
    assert row["waste"] == pytest.approx(0.5)
    # District 1: its other neighbourhoods have no figure here, so no per-1,000 figure.
    districts = {r["district"]: r for r in report.table("needs_districts").rows}
    assert districts["1"]["requests"] == 2 and districts["1"]["per_1000"] is None
    # The shipped estimates (config/reference/neighbourhoods.yaml): district 1 = the sum
    # of its six neighbourhoods, 72,000 residents.
    report = build_report("needs", session=session, filters=ReportFilters(period=ESFAND),
                          settings=Settings(environment="test"), now=NOW,
                          populations=populations())
    districts = {r["district"]: r for r in report.table("needs_districts").rows}
    assert districts["1"]["residents"] == 72000
    assert districts["1"]["per_1000"] == pytest.approx(2 * 1000 / 72000)
    assert districts["2"]["requests"] == 0 and districts["2"]["per_1000"] == 0


def test_satisfaction_by_department_agent_and_channel(session: Session) -> None:
    a = request(session, "2025-03-01 08:00:00", rating=5, fixed=True)
    b = request(session, "2025-03-01 08:00:00", rating=2, fixed=False, survey_channel="phone")
    request(session, "2025-03-01 08:00:00", rating=4, fixed=None, category="parks",
            department="parks")
    request(session, "2025-03-01 08:00:00")  # no answer
    for row, agent in ((a, "2101"), (b, "2102")):
        session.add(Call(linkedid=f"x{row.id}", uniqueid=f"x{row.id}", entered_at=row.created_at,
                         outcome="answered", agent=agent, request_id=row.id))
    tasks = [Task(kind="survey_sms", request_id=a.id, due_at=at("2025-03-01 10:00:00")),
             Task(kind="survey_sms", request_id=b.id, due_at=at("2025-03-01 10:00:00")),
             Task(kind="survey_call", request_id=b.id, due_at=at("2025-03-02 10:00:00"))]
    session.add_all(tasks)
    session.flush()
    for task, channel in ((tasks[0], "sms"), (tasks[1], "sms"), (tasks[2], "voice")):
        session.add(ContactAttempt(task_id=task.id, channel=channel, decision="sent",
                                   at=at("2025-03-01 11:00:00")))
    session.flush()
    report = build(session, "satisfaction")
    f = report.figures
    assert (f["due_sms"], f["due_call"], f["sent_sms"], f["sent_call"]) == (2, 1, 2, 1)
    assert (f["answered_sms"], f["answered_call"]) == (2, 1)
    assert f["answers"] == 3 and f["csat_mean"] == pytest.approx(11 / 3)
    assert f["csat_good_share"] == pytest.approx(2 / 3)
    assert f["not_fixed_rate"] == pytest.approx(1 / 2)  # 2 said fixed-or-not, 1 not
    flow = {r["channel"]: r for r in report.table("survey_flow").rows}
    assert flow["sms"]["response_rate"] == pytest.approx(1.0)
    by_dept = {r["value"]: r for r in report.table("csat_department").rows}
    assert by_dept["waste"]["csat_mean"] == pytest.approx(3.5)
    assert by_dept["parks"]["not_fixed_rate"] is None  # nobody answered "fixed?"
    by_agent = {r["value"]: r["csat_mean"] for r in report.table("csat_agent").rows}
    assert by_agent == {"2101": 5.0, "2102": 2.0}
    only_parks = build(session, "satisfaction", department="parks", channel="phone",
                       district=1)
    assert only_parks.figures["answers"] == 1


def test_filters_combine(session: Session) -> None:
    request(session, "2025-03-01 08:00:00", channel="sms", place="yaghoubi")  # district 2
    request(session, "2025-03-01 08:00:00", channel="phone", place="fahadan")  # district 1
    request(session, "2025-03-01 08:00:00", channel="sms", place="fahadan", category="parks",
            department="parks")
    both = build(session, "requests", channel="sms", district=1)
    assert both.figures["requests"] == 1
    assert build(session, "requests", channel="sms", district=1,
                 category="waste").figures["requests"] == 0
    assert build(session, "requests", neighbourhood="fahadan").figures["requests"] == 2
    # Calls follow their request's department; another channel than phone has no call.
    row = request(session, "2025-03-02 08:00:00", department="parks", category="parks")
    session.add(Call(linkedid="y1", uniqueid="y1", entered_at=at("2025-03-02 08:00:00"),
                     outcome="answered", wait_seconds=5, request_id=row.id))
    session.add(Call(linkedid="y2", uniqueid="y2", entered_at=at("2025-03-02 08:00:00"),
                     outcome="abandoned", wait_seconds=50))
    session.flush()
    assert build(session, "contact").figures["offered"] == 2
    assert build(session, "contact", department="parks").figures["offered"] == 1
    assert build(session, "contact", department="parks", channel="sms").figures["offered"] == 0
