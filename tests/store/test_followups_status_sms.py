"""Status SMS follow the calling hours (SQLite and PostgreSQL): the contact policy says
when a citizen SMS may go - now inside hours, the next morning outside (the tracking-code
SMS right after a filing always at once) - and the durable message row waits for it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.cases.services import create_request
from callcenter.followups.config import RunnerConfig
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.messages.delivery import DeliveryConfig, MessageDelivery
from callcenter.messages.models import MessageKind
from callcenter.reference.hours import Holidays
from callcenter.sms.channel import SmsChannel
from callcenter.sms.notify import queue_sms

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


async def test_a_status_sms_queued_at_night_is_sent_in_the_morning_once(
        engine: Engine, session: Session) -> None:
    """The department's status SMS is a durable message row (written with the status
    change) whose first attempt is the policy's time: held at night, sent once in the
    morning by the message delivery."""
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="parks")
    row = queue_sms(session=session, to="+989131234567", body="وضعیت درخواست: در حال رسیدگی",
                    kind=MessageKind.STATUS_CHANGED, request_id=request.id,
                    send_at=POLICY.sms_send_at(now=NIGHT))
    session.commit()
    assert row.next_attempt_at == MORNING
    transport = Transport()
    clock = {"now": NIGHT + timedelta(hours=1)}
    delivery = MessageDelivery(engine=engine, owner="a", clock=lambda: clock["now"],
                               channels={"sms": SmsChannel(transport=transport,
                                                           from_number="+98137")},
                               config=DeliveryConfig())
    assert (await delivery.deliver_due()).sent == []  # still night
    assert transport.sent == []
    clock["now"] = MORNING + timedelta(minutes=1)
    assert (await delivery.deliver_due()).sent == [row.id]
    assert (await delivery.deliver_due()).sent == []
    assert transport.sent == [("+989131234567", "وضعیت درخواست: در حال رسیدگی")]


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
