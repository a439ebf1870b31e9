"""The daily request roll-up is exact: every request-volume and neighbourhood figure is
computed from raw rows, the roll-up is rebuilt from them, and the same figures read from
the roll-up must be equal - on every backend, across local midnights, Iran's old
daylight-saving months (1400), an Esfand, every bucketing and filters combined."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from callcenter.cases.models import CitizenRequest
from callcenter.citizens.models import Citizen
from callcenter.reports import rollups
from callcenter.reports.filters import ReportFilters
from callcenter.reports.models import RequestDay, RollupMark
from callcenter.reports.periods import Granularity, Period, month_period
from callcenter.reports.services import build_report
from callcenter.settings import Settings

TZ = "Asia/Tehran"
NOW = datetime(2025, 3, 26, 9, tzinfo=UTC)
CATEGORIES = ["waste", "streets", "parks", "traffic", "building"]
PLACES = ["fahadan", "yaghoubi", "azadshahr", "naeimabad", None]
CHANNELS = ["phone", "sms", "app", "web"]


def fill(session: Session) -> None:
    rng = random.Random(15)
    citizen = Citizen(phone="+989130000001")
    session.add(citizen)
    session.flush()
    stretches = [(datetime(2021, 2, 25, tzinfo=UTC), 70),
                 (datetime(2021, 9, 10, tzinfo=UTC), 25),
                 (datetime(2025, 2, 10, tzinfo=UTC), 44)]
    n = 0
    for start, days in stretches:
        for _ in range(days * 4):
            # Half of them within 40 minutes of a local midnight (20:30 / 19:30 UTC).
            day = start + timedelta(days=rng.randrange(days))
            moment = (day.replace(hour=20, minute=30) + timedelta(minutes=rng.randint(-40, 40))
                      if rng.random() < 0.5 else day + timedelta(seconds=rng.randrange(86400)))
            category = rng.choice(CATEGORIES)
            n += 1
            session.add(CitizenRequest(
                tracking_code=f"9{n:08d}", citizen_id=citizen.id, channel=rng.choice(CHANNELS),
                category_code=category, department_code=category,
                neighbourhood_code=rng.choice(PLACES), status="new", created_at=moment))
    session.commit()


def figures(session: Session, filters: ReportFilters) -> dict[str, Any]:
    settings = Settings(environment="test", ami_enabled=False)
    requests = build_report("requests", session=session, filters=filters, settings=settings,
                            now=NOW)
    needs = build_report("needs", session=session, filters=filters, settings=settings, now=NOW)
    return {"volume": requests.table("volume_channel").rows,
            "dimensions": requests.table("volume_totals").rows,
            "matrix": needs.table("needs_matrix").rows,
            "districts": needs.table("needs_districts").rows}


CASES = [
    ReportFilters(period=month_period("1400-01", TZ)),  # daylight saving from its 2nd day
    ReportFilters(period=month_period("1399-12", TZ), granularity=Granularity.WEEK),
    ReportFilters(period=month_period("1400-06", TZ), granularity=Granularity.DAY),  # DST ends
    ReportFilters(period=Period(date(2021, 2, 25), date(2021, 10, 15), TZ),
                  granularity=Granularity.MONTH),
    ReportFilters(period=month_period("1403-12", TZ), channel="sms", district=1),
    ReportFilters(period=month_period("1403-12", TZ), granularity=Granularity.WEEK,
                  department="waste", neighbourhood="fahadan"),
    ReportFilters(period=month_period("1403-12", TZ), category="parks"),
]


def test_rollup_equals_raw_rows(engine: Engine, session: Session) -> None:
    fill(session)
    raw = [figures(session, case) for case in CASES]
    assert not any(rollups.covers(session, case) for case in CASES)
    assert rollups.refresh(engine, timezone=TZ, now=NOW) == (date(2021, 2, 25),
                                                             date(2025, 3, 25))
    session.commit()  # end the read snapshot: see what refresh committed
    assert all(rollups.covers(session, case) for case in CASES)
    rolled = [figures(session, case) for case in CASES]
    for case, expected, found in zip(CASES, raw, rolled, strict=True):
        assert found == expected, case
    # The roll-up holds each request filed up to yesterday (local) once; today's are not.
    total = session.exec(select(func.sum(RequestDay.requests))).one()
    today = datetime(2025, 3, 25, 20, 30, tzinfo=UTC)  # 1404-01-06 00:00 in Tehran
    assert total == session.exec(select(func.count()).select_from(CitizenRequest).where(
        CitizenRequest.created_at < today)).one()
    assert total < session.exec(select(func.count()).select_from(CitizenRequest)).one()


def test_refresh_follows_new_days_and_recent_edits(engine: Engine, session: Session) -> None:
    fill(session)
    rollups.refresh(engine, timezone=TZ, now=NOW)
    esfand = ReportFilters(period=month_period("1403-12", TZ))
    before = figures(session, esfand)
    # A request re-routed within the rebuild window.
    moved = session.exec(select(CitizenRequest).where(
        CitizenRequest.created_at >= datetime(2025, 3, 10, tzinfo=UTC),
        CitizenRequest.created_at < datetime(2025, 3, 19, tzinfo=UTC),
        CitizenRequest.category_code != "building").order_by(
        CitizenRequest.id).limit(1)).one()  # type: ignore[arg-type]
    moved.category_code = moved.department_code = "building"
    session.add(moved)
    session.commit()
    assert figures(session, esfand) == before  # read from the roll-up: not seen yet
    rollups.refresh(engine, timezone=TZ, now=NOW + timedelta(days=1))
    session.commit()  # end the read snapshot: see what refresh committed
    after = figures(session, esfand)
    assert after != before
    mark = session.get(RollupMark, rollups.NAME)
    assert mark is not None and mark.through_day == rollups.day_number(date(2025, 3, 26))
    # Raw figures (no roll-up) say the same as the refreshed roll-up.
    session.delete(mark)
    session.commit()
    assert figures(session, esfand) == after
    # A period reaching today or later is read from raw rows.
    farvardin = ReportFilters(period=month_period("1404-01", TZ))
    rollups.refresh(engine, timezone=TZ, now=NOW)
    session.commit()  # end the read snapshot: see what refresh committed
    assert not rollups.covers(session, farvardin)
    assert not rollups.covers(session, ReportFilters(period=esfand.period,
                                                     granularity=Granularity.HOUR))
