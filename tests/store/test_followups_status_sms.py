"""Status SMS follow the calling hours (SQLite and PostgreSQL): the contact policy says
when a citizen SMS may go - now inside hours, the next morning outside (the tracking-code
SMS right after a filing always at once) - and a queued one is a task row the engine
sends at its time, once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.cases.services import create_request
from callcenter.followups.config import RunnerConfig
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.reference.hours import Holidays
from callcenter.sms.service import RecordingSmsService

POLICY = build_policy(zone="Asia/Tehran", opens=time(9), closes=time(20),
                      open_on_friday=False, cap=3, period=timedelta(days=7),
                      holidays=Holidays(yearly=frozenset(), dated=frozenset()))
NIGHT = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)  # Saturday 22:30 Tehran
MORNING = datetime(2026, 12, 6, 5, 30, tzinfo=UTC)  # Sunday 09:00 Tehran


def test_the_policy_queues_a_status_sms_to_the_morning() -> None:
    assert POLICY.sms_send_at(now=NIGHT) == MORNING
    assert POLICY.sms_send_at(now=NIGHT, right_after_filing=True) == NIGHT
    noon = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
    assert POLICY.sms_send_at(now=noon) == noon


class Transport:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def send_once(self, *, to: str, body: str) -> str:
        with self._lock:
            self.sent.append((to, body))
            return f"SM{len(self.sent):030d}"


async def test_a_queued_status_sms_is_sent_in_the_morning_once(
        engine: Engine, session: Session) -> None:
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="parks")
    session.add(Task(kind=TaskKind.STATUS_SMS, request_id=request.id,
                     citizen_id=request.citizen_id, due_at=POLICY.sms_send_at(now=NIGHT),
                     max_attempts=1, result={"body": "وضعیت درخواست: در حال رسیدگی"}))
    session.commit()
    transport = Transport()

    async def no_sleep(_seconds: float) -> None:
        return None

    sms = RecordingSmsService(transport=transport, engine=engine, from_number="+98137",
                              max_attempts=1, sleep=no_sleep)
    clock = {"now": NIGHT + timedelta(hours=1)}
    runner = FollowupRunner(engine=engine, config=RunnerConfig(), policy=POLICY, sms=sms,
                            clock=lambda: clock["now"])
    await runner.run_due()
    assert transport.sent == []  # still night
    clock["now"] = MORNING + timedelta(minutes=1)
    await runner.run_due()
    await runner.run_due()
    assert transport.sent == [("+989131234567", "وضعیت درخواست: در حال رسیدگی")]
    session.expire_all()
    [task] = session.exec(select(Task).where(Task.kind == TaskKind.STATUS_SMS)).all()
    assert task.state == "done"


async def test_a_survey_that_cannot_run_closes_the_request_after_the_days(
        engine: Engine, session: Session) -> None:
    """Tried: two resolved requests, one citizen opted out (survey skipped), one survey
    call given up after every retry; expect both still resolved before 7 days, closed
    with the reason after, once across two engines; a third with an open survey stays."""
    from callcenter.cases.models import CitizenRequest, RequestStatus
    from callcenter.cases.services import change_status
    from callcenter.followups.models import TaskState

    resolved = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    made: list[int] = []
    for phone, state, note in (("09131110001", TaskState.SKIPPED, "not contacted: opted-out"),
                               ("09131110002", TaskState.FAILED, "no survey after 3 call(s)"),
                               ("09131110003", TaskState.WAITING, None)):
        request = create_request(session=session, phone=phone, channel="phone",
                                 category_code="parks")
        change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                      actor="dept")
        request.resolved_at = resolved
        session.add(Task(kind=TaskKind.SURVEY_CALL, request_id=request.id,
                         citizen_id=request.citizen_id, state=state, note=note,
                         due_at=resolved + timedelta(days=30)))
        session.commit()
        assert request.id is not None
        made.append(request.id)
    clock = {"now": resolved + timedelta(days=6)}
    one = FollowupRunner(engine=engine, config=RunnerConfig(), policy=POLICY,
                         clock=lambda: clock["now"], owner="one")
    two = FollowupRunner(engine=engine, config=RunnerConfig(), policy=POLICY,
                         clock=lambda: clock["now"], owner="two")
    assert (await one.run_due()).settled == {}
    clock["now"] = resolved + timedelta(days=7, minutes=1)
    first, second = await one.run_due(), await two.run_due()
    assert first.settled == {made[0]: "opted-out", made[1]: "no-answer"}
    assert second.settled == {}
    session.expire_all()
    statuses = [session.get(CitizenRequest, i).status for i in made]  # type: ignore[union-attr]
    assert statuses == ["closed", "closed", "resolved"]
