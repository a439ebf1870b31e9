"""Deadlines and escalations on SQLite and PostgreSQL: a working-hours deadline across a
Friday and a lunar holiday, escalation once with two engines running, levels to the
department then its head, a department's status update clearing the overdue task."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.cases.services import create_request
from callcenter.followups.config import RunnerConfig
from callcenter.followups.escalations import ESCALATED, open_escalations
from callcenter.followups.models import Escalation, Task, TaskKind, TaskState
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.outbox.models import OutboxItem
from callcenter.reference.hours import Holidays, Hours
from callcenter.reference.models import Category

TEHRAN = ZoneInfo("Asia/Tehran")
# The shipped calendar: IR official holidays from the package (Tasua/Ashura 1405 are
# Wednesday 24 and Thursday 25 June 2026), no local changes.
CALENDAR = Hours(zone=TEHRAN, opens=time(8), closes=time(16), holidays=Holidays.load())
POLICY = build_policy(zone="Asia/Tehran", opens=time(9), closes=time(20),
                      open_on_friday=False, cap=3, period=timedelta(days=7),
                      holidays=CALENDAR.holidays)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def runner(engine: Engine, clock: Clock, owner: str) -> FollowupRunner:
    return FollowupRunner(engine=engine, config=RunnerConfig(), policy=POLICY,
                          calendar=CALENDAR, clock=clock, owner=owner)


def working_category(session: Session, hours: int = 16) -> None:
    category = session.get(Category, "streets")
    assert category is not None
    category.deadline_basis, category.deadline_hours = "working", hours
    session.add(category)
    session.commit()


def fresh(session: Session) -> None:
    session.rollback()
    session.expire_all()


def test_working_hours_deadline_skips_a_lunar_holiday_and_friday(session: Session) -> None:
    """Filed Tuesday 23 June 2026 14:00 Tehran with 16 working hours (8-16): 2 h on
    Tuesday, Wednesday Tasua, Thursday Ashura, Friday closed, Saturday 8 h, Sunday 6 h
    -> Sunday 28 June 14:00. In calendar hours it would be Wednesday 06:00."""
    working_category(session)
    filed = datetime(2026, 6, 23, 14, tzinfo=TEHRAN)
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="streets", calendar=CALENDAR)
    # create_request stamps "now": recompute from the same rule at a fixed start
    from callcenter.cases.deadlines import category_deadline
    category = session.get(Category, "streets")
    assert category is not None
    assert category_deadline(category=category, start=filed, calendar=CALENDAR) == \
        datetime(2026, 6, 28, 14, tzinfo=TEHRAN)
    assert request.deadline_at is not None and request.deadline_at > request.created_at
    category.deadline_basis = "calendar"
    assert category_deadline(category=category, start=filed, calendar=CALENDAR) == \
        datetime(2026, 6, 24, 6, tzinfo=TEHRAN)


def overdue_request(session: Session, *, created: datetime, deadline: datetime
                    ) -> CitizenRequest:
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="streets", description="چاله")
    request.created_at, request.deadline_at = created, deadline
    session.add(request)
    session.commit()
    return request


async def test_escalation_is_written_once_with_two_engines_running(
        engine: Engine, session: Session) -> None:
    working_category(session, hours=16)
    created = datetime(2026, 12, 5, 8, tzinfo=TEHRAN)  # Saturday
    deadline = CALENDAR.add_working_time(created, timedelta(hours=16))  # Sunday 16:00
    request = overdue_request(session, created=created, deadline=deadline)
    clock = Clock(deadline.astimezone(UTC) - timedelta(minutes=1))
    one, two = runner(engine, clock, "a"), runner(engine, clock, "b")
    assert (await one.run_due()).escalated == 0  # not yet
    clock.now = deadline.astimezone(UTC) + timedelta(minutes=1)
    reports = await asyncio.gather(one.run_due(), two.run_due(), one.run_due())
    assert sum(r.escalated for r in reports) == 1
    fresh(session)
    [row] = session.exec(select(Escalation)).all()
    assert (row.level, row.target) == (1, "department")
    events = session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id)
                          .where(RequestEvent.kind == "escalation")).all()
    assert len(events) == 1
    outbox = session.exec(select(OutboxItem).where(OutboxItem.kind == ESCALATED)).all()
    assert len(outbox) == 1 and outbox[0].payload["extra"]["target"] == "department"
    [task] = session.exec(select(Task).where(Task.kind == TaskKind.OVERDUE)).all()
    assert task.state == TaskState.PENDING and task.request_id == request.id
    assert open_escalations(session=session) == []  # level 1: not yet a supervisor alert

    # 150 % = 24 working hours from Saturday 08:00 -> Monday 16:00 (8 h a day)
    level_two = CALENDAR.add_working_time(created, timedelta(hours=24))
    assert level_two == datetime(2026, 12, 7, 16, tzinfo=TEHRAN)
    clock.now = level_two.astimezone(UTC) - timedelta(minutes=1)
    assert (await one.run_due()).escalated == 0
    clock.now = level_two.astimezone(UTC) + timedelta(minutes=1)
    reports = await asyncio.gather(one.run_due(), two.run_due())
    assert sum(r.escalated for r in reports) == 1
    fresh(session)
    targets = [e.target for e in session.exec(select(Escalation).order_by(Escalation.level)).all()]  # type: ignore[arg-type]
    assert targets == ["department", "head"]
    assert len(session.exec(select(Task).where(Task.kind == TaskKind.OVERDUE)).all()) == 1
    [alert] = open_escalations(session=session)
    assert alert["level"] == 2 and alert["tracking_code"] == request.tracking_code
    # further passes write nothing more
    clock.now += timedelta(days=3)
    assert (await two.run_due()).escalated == 0


async def test_a_department_status_update_clears_the_overdue_task(
        engine: Engine, session: Session) -> None:
    from callcenter.settings import Settings
    from crm_bridge.config import load_shahrbin_config
    from crm_bridge.inbound import apply_status_update

    created = datetime(2026, 12, 5, 8, tzinfo=TEHRAN)
    request = overdue_request(session, created=created, deadline=created + timedelta(hours=1))
    clock = Clock(created.astimezone(UTC) + timedelta(hours=2))
    assert (await runner(engine, clock, "a").run_due()).escalated == 1
    config = load_shahrbin_config(Settings())
    apply_status_update(session=session, config=config,
                        data={"RequestNo": request.tracking_code, "State": "InProgress"})
    session.commit()
    fresh(session)
    [task] = session.exec(select(Task).where(Task.kind == TaskKind.OVERDUE)).all()
    assert task.state == TaskState.DONE and "shahrbin" in (task.note or "")
