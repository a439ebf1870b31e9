"""Contact-center report figures against hand-counted call records, on every backend.

The month is Esfand 1403 (a leap year: 30 days, 1403-12-01 = 2025-02-19 ..
1403-12-30 = 2025-03-20); Tehran is UTC+03:30, so local midnight is 20:30 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest
from sqlmodel import Session

from callcenter.callrecords.models import Call
from callcenter.reports.filters import ReportFilters
from callcenter.reports.periods import Granularity, month_period
from callcenter.reports.services import build_report
from callcenter.settings import Settings
from callcenter.stats.services import contact_figures

TZ = "Asia/Tehran"
ESFAND = month_period("1403-12", TZ)
_ids = count(1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(session: Session, when: str, outcome: str, wait: float | None = None,
         talk: float | None = None, *, direction: str = "inbound", caller: str = "+989131111111",
         agent: str | None = None, ivr_path: str | None = None, queue: str | None = "q1",
         request_id: int | None = None) -> Call:
    n = next(_ids)
    row = Call(linkedid=f"1700000000.{n}", uniqueid=f"1700000000.{n}", direction=direction,
               caller=caller, entered_at=at(when), outcome=outcome, wait_seconds=wait,
               talk_seconds=talk, agent=agent, ivr_path=ivr_path, queue=queue,
               request_id=request_id)
    session.add(row)
    session.flush()
    return row


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"environment": "test", "ami_enabled": False,
                                 "service_level_seconds": 20, "short_abandon_seconds": 5}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def esfand_calls(session: Session) -> list[Call]:
    """Hand-counted: 6 offered in Esfand (2 answered, 2 abandoned of which 1 short,
    1 callback, 1 missed), plus calls that must not count."""
    return [
        call(session, "2025-03-20 20:29:59", "answered", 10, 100, agent="2101"),  # 30th 23:59:59
        call(session, "2025-03-20 20:30:00", "answered", 30, 200, agent="2101"),  # 1404-01-01
        call(session, "2025-02-18 20:30:00", "abandoned", 3),  # 1403-12-01 00:00 local, short
        call(session, "2025-03-01 10:00:00", "abandoned", 70),
        call(session, "2025-03-02 10:00:00", "callback", 130),
        call(session, "2025-03-03 10:00:00", "missed", 25),
        call(session, "2025-03-04 10:00:00", "ivr_only", ivr_path="menu:1>category:3>recorded"),
        call(session, "2025-03-05 10:00:00", "answered", 1, 60, direction="outbound",
             ivr_path="survey:1"),
        call(session, "2025-03-06 10:00:00", "answered", 20, 50, agent="2102"),  # at threshold
        call(session, "2025-02-18 20:29:59", "answered", 5, 5),  # 1403-11-30 23:59:59 local
    ]


def report(session: Session, filters: ReportFilters, **kw: object):  # type: ignore[no-untyped-def]
    return build_report("contact", session=session, filters=filters,
                        settings=settings(**kw), now=at("2025-03-21 00:00:00"))


def test_month_totals_match_hand_counts(session: Session) -> None:
    esfand_calls(session)
    figures = report(session, ReportFilters(period=ESFAND)).figures
    assert {k: figures[k] for k in ("offered", "answered", "abandoned", "short_abandons",
                                    "callbacks", "missed", "answered_within_threshold")} == {
        "offered": 6, "answered": 2, "abandoned": 2, "short_abandons": 1, "callbacks": 1,
        "missed": 1, "answered_within_threshold": 2}
    assert figures["service_level"] == pytest.approx(2 / 6)
    assert figures["answer_rate"] == pytest.approx(2 / 6)
    assert figures["abandon_rate"] == pytest.approx(2 / 6)
    assert figures["asa"] == pytest.approx(15.0)
    assert figures["aht"] == pytest.approx(75.0)
    assert figures["longest_wait"] == pytest.approx(130.0)
    assert [figures[k] for k in ("wait_0_20", "wait_20_60", "wait_60_120", "wait_120_plus")
            ] == [2, 2, 1, 1]


def test_short_abandons_can_leave_the_service_level(session: Session) -> None:
    esfand_calls(session)
    figures = report(session, ReportFilters(period=ESFAND),
                     service_level_excludes_short_abandons=True).figures
    assert figures["service_level"] == pytest.approx(2 / 5)
    assert figures["offered"] == 6  # still offered: only the ratio's base changes


def test_same_figures_as_the_supervisor_page(session: Session) -> None:
    """The supervisor page's Python definitions over the same rows give the same numbers."""
    rows = [c for c in esfand_calls(session) if ESFAND.start <= c.entered_at < ESFAND.end]
    page = contact_figures(rows, threshold_seconds=20)
    figures = report(session, ReportFilters(period=ESFAND)).figures
    assert (page.offered, page.answered, page.abandoned, page.callbacks, page.missed) == (
        figures["offered"], figures["answered"], figures["abandoned"], figures["callbacks"],
        figures["missed"])
    assert page.service_level == pytest.approx(figures["service_level"])
    assert page.average_speed_of_answer == pytest.approx(figures["asa"])
    assert page.average_handling_time == pytest.approx(figures["aht"])


def test_day_buckets_cut_at_local_midnight(session: Session) -> None:
    esfand_calls(session)
    series = report(session, ReportFilters(period=ESFAND)).table("contact_series").rows
    assert len(series) == 30  # Esfand of leap year 1403
    by_day = {row["bucket"]: row["offered"] for row in series}
    assert by_day["1403-12-01"] == 1  # 20:30:00 UTC on the 18th is the 1st, local
    assert by_day["1403-12-30"] == 1  # 20:29:59 UTC on the 20th is still the 30th
    assert sum(by_day.values()) == 6
    empty = next(row for row in series if row["bucket"] == "1403-12-15")
    assert empty["offered"] == 0 and empty["service_level"] is None and empty["asa"] is None


def test_hour_of_day_is_local(session: Session) -> None:
    esfand_calls(session)
    rows = report(session, ReportFilters(period=ESFAND, granularity=Granularity.HOUR)
                  ).table("contact_series").rows
    hours = {row["bucket"]: row["offered"] for row in rows}
    assert len(rows) == 24
    assert hours["23"] == 1  # 20:29:59 UTC = 23:59:59 Tehran
    assert hours["00"] == 1  # 20:30:00 UTC = 00:00 Tehran
    assert hours["13"] == 4  # 10:00 UTC = 13:30 Tehran: abandoned, callback, missed, answered


def test_week_buckets_start_on_saturday(session: Session) -> None:
    esfand_calls(session)
    rows = report(session, ReportFilters(period=ESFAND, granularity=Granularity.WEEK)
                  ).table("contact_series").rows
    # 1403-12-01 is a Wednesday: a short first week, then weeks from each Saturday.
    assert [row["bucket"] for row in rows] == [
        "1403-12-01", "1403-12-04", "1403-12-11", "1403-12-18", "1403-12-25"]
    # 2025-03-01 (1403-12-11) is a Saturday: the 03-01..03-06 calls share a week.
    assert [row["offered"] for row in rows] == [1, 0, 4, 0, 1]


def test_empty_period_divides_by_nothing(session: Session) -> None:
    esfand_calls(session)
    figures = report(session, ReportFilters(period=month_period("1402-01", TZ))).figures
    assert figures["offered"] == 0
    for key in ("service_level", "answer_rate", "abandon_rate", "asa", "aht", "longest_wait"):
        assert figures[key] is None, key


def test_agents_ivr_and_repeat_callers(session: Session) -> None:
    esfand_calls(session)
    call(session, "2025-03-06 12:00:00", "ivr_only", ivr_path="menu:2>code")  # +2 h, repeat
    filters = ReportFilters(period=ESFAND)
    common = {"session": session, "filters": filters, "settings": settings(),
              "now": at("2025-03-21 00:00:00")}
    agents = build_report("agents", **common).table("agents").rows
    assert [(a["agent"], a["answered"], a["talk_seconds"]) for a in agents] == [
        ("2101", 1, 100.0), ("2102", 1, 50.0)]
    ivr = build_report("ivr", **common)
    assert ivr.figures["new_request"] == 1 and ivr.figures["follow_up"] == 1
    assert ivr.figures["survey"] == 1
    assert {r["step"]: r["calls"] for r in ivr.table("ivr_exits").rows} == {
        "recorded": 1, "code": 1}
    repeats = build_report("repeats", **common).figures
    # One number all along; Esfand's 8 inbound calls and the gap to the one before:
    # 02-18 20:30 (1 s), 03-01 (10.5 days), 03-02 / 03-03 / 03-04 (24 h exactly, counts),
    # 03-06 10:00 (2 days), 03-06 12:00 (2 h), 03-20 (14 days).
    assert repeats["calls"] == 8
    assert repeats["repeat_24h"] == 5
    assert repeats["repeat_7d"] == 6
