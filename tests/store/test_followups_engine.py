"""The follow-up engine on SQLite and PostgreSQL: scheduling, claiming, policy decisions,
retries with backoff, crash windows (sent exactly once), survey settlement.

Clock: Saturday 2026-12-05 10:30 Tehran (07:00 UTC), a working day inside calling hours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.ami.actions import OriginateResult
from callcenter.ami.exceptions import OriginateFailed
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.followups.config import RunnerConfig
from callcenter.followups.models import ContactAttempt, Task, TaskKind
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.followups.surveys import store_answer
from callcenter.outbox.models import OutboxItem
from callcenter.reference.hours import Holidays
from callcenter.sms.service import RecordingSmsService

T0 = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
POLICY = build_policy(zone="Asia/Tehran", opens=datetime.min.time().replace(hour=9),
                      closes=datetime.min.time().replace(hour=20), open_on_friday=False,
                      cap=3, period=timedelta(days=7),
                      holidays=Holidays(yearly=frozenset(), dated=frozenset()))
CONFIG = RunnerConfig(survey_delay=timedelta(hours=1), reply_window=timedelta(hours=24),
                      call_backoff=timedelta(minutes=30), lease=timedelta(minutes=5))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class CountingTransport:
    """The SMS provider edge: counts what really left (thread-safe)."""

    def __init__(self, crash: type[BaseException] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.crash = crash
        self._lock = threading.Lock()

    def send_once(self, *, to: str, body: str) -> str:
        with self._lock:
            self.sent.append((to, body))
            if self.crash is not None:
                raise self.crash("process died right after the provider took the SMS")
            return f"SM{len(self.sent):030d}"


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


class FakeActions:
    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes
        self.calls: list[dict[str, Any]] = []

    async def originate(self, **kwargs: Any) -> OriginateResult:
        self.calls.append(kwargs)
        outcome = self.outcomes.pop(0)
        if outcome != "answer":
            raise OriginateFailed("no", action_id="x", reason=outcome, answer="")
        return OriginateResult(action_id="x", channel=kwargs["channel"],
                               uniqueid=f"17.{len(self.calls)}", reason="4")


def sms_service(engine: Engine, transport: CountingTransport) -> RecordingSmsService:
    async def no_sleep(_seconds: float) -> None:
        return None

    return RecordingSmsService(transport=transport, engine=engine, from_number="+98137",
                               max_attempts=1, sleep=no_sleep)


def make_engine(engine: Engine, clock: Clock, *, sms: Any = None, actions: Any = None,
                queue_state: Any = None, config: RunnerConfig = CONFIG,
                owner: str = "test") -> FollowupRunner:
    return FollowupRunner(engine=engine, config=config, policy=POLICY, sms=sms,
                          actions=actions, queue_state=queue_state, clock=clock, owner=owner)


def resolved_request(session: Session, phone: str = "09131234567",
                     at: datetime = T0) -> CitizenRequest:
    request = create_request(session=session, phone=phone, channel="phone",
                             category_code="streets", description="چاله")
    change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                  actor="dept")
    request.resolved_at = at
    session.add(request)
    session.commit()
    return request


def tasks(session: Session, kind: str | None = None) -> list[Task]:
    session.rollback()  # a fresh snapshot: a SQLite read transaction keeps its own
    session.expire_all()
    query = select(Task).order_by(Task.id)  # type: ignore[arg-type]
    if kind:
        query = query.where(Task.kind == kind)
    return list(session.exec(query).all())


def contacts(session: Session) -> list[tuple[str, str, str | None]]:
    session.rollback()  # a fresh snapshot: a SQLite read transaction keeps its own
    session.expire_all()
    return [(c.channel, c.decision, c.reason)
            for c in session.exec(select(ContactAttempt).order_by(ContactAttempt.id)).all()]  # type: ignore[arg-type]


async def test_resolution_schedules_one_sms_survey_sent_once_at_its_time(
    engine: Engine, session: Session
) -> None:
    """Tried: a resolved request, passes before and after the delay; expect one task,
    the SMS sent once with the tracking code, then the task waits for the reply."""
    request = resolved_request(session)
    clock, transport = Clock(T0 + timedelta(minutes=30)), CountingTransport()
    runner = make_engine(engine, clock, sms=sms_service(engine, transport))
    report = await runner.run_due()
    assert report.scheduled == 1 and report.claimed == 0 and transport.sent == []
    clock.now = T0 + timedelta(hours=1)
    report = await runner.run_due()
    assert report.scheduled == 0 and report.outcomes == {"sent": 1}
    assert len(transport.sent) == 1 and transport.sent[0][0] == "+989131234567"
    assert "۱ تا ۵" in transport.sent[0][1]
    [task] = tasks(session)
    assert (task.kind, task.state, task.attempts) == ("survey_sms", "waiting", 1)
    assert task.request_id == request.id and task.due_at == clock.now + timedelta(hours=24)
    clock.now += timedelta(hours=2)
    assert (await runner.run_due()).claimed == 0
    assert len(transport.sent) == 1 and contacts(session) == [("sms", "sent", None)]


async def test_restart_between_scheduling_and_sending_sends_exactly_once(
    engine: Engine, session: Session
) -> None:
    """Tried: instance 1 schedules then stops; instances 2 and 3 start later; expect one SMS."""
    resolved_request(session)
    transport = CountingTransport()
    first = make_engine(engine, Clock(T0), sms=sms_service(engine, transport), owner="one")
    assert (await first.run_due()).scheduled == 1
    del first  # "restart": nothing in memory survives, only the rows
    later = Clock(T0 + timedelta(hours=1, seconds=1))
    for owner in ("two", "three"):
        await make_engine(engine, later, sms=sms_service(engine, transport),
                          owner=owner).run_due()
    assert len(transport.sent) == 1


@pytest.mark.parametrize("where", ["before-provider", "after-provider"])
async def test_crash_mid_send_never_sends_twice(
    engine: Engine, session: Session, where: str
) -> None:
    """Tried: the process dies (a) after writing its intent but before the provider got
    the SMS, (b) right after the provider took it; a new instance claims the task when
    the lease ends. Expect (a) sent once by the new instance, (b) not sent again."""
    resolved_request(session)
    clock = Clock(T0 + timedelta(hours=1))
    crashing = CountingTransport(crash=Crash)
    if where == "before-provider":
        class DyingSms:
            async def send(self, **_kwargs: Any) -> Any:
                raise Crash("died before the provider call")
        sms: Any = DyingSms()
    else:
        sms = sms_service(engine, crashing)
    with pytest.raises(Crash):
        await make_engine(engine, clock, sms=sms, owner="dead").run_due()
    [task] = tasks(session)
    assert task.state == "claimed" and (task.result or {}).get("phase") == "sending"
    transport = CountingTransport()
    survivor = make_engine(engine, clock, sms=sms_service(engine, transport), owner="alive")
    assert (await survivor.run_due()).claimed == 0  # the lease still holds
    clock.now += CONFIG.lease + timedelta(seconds=1)
    report = await survivor.run_due()
    assert report.claimed == 1
    total = len(crashing.sent) + len(transport.sent)
    assert total == 1
    [task] = tasks(session)
    assert task.state == "waiting" and task.attempts == 1
    assert [c[1] for c in contacts(session)] == ["sent"]


async def test_no_reply_escalates_to_survey_calls_with_backoff_then_gives_up(
    engine: Engine, session: Session
) -> None:
    """Tried: no SMS reply, then busy, no answer, busy. Expect a survey call task, three
    originates into [outbound] survey with the request code, 30 then 60 minutes apart,
    each failure logged with its reason, then the task failed."""
    request = resolved_request(session)
    clock = Clock(T0 + timedelta(hours=1))
    actions = FakeActions(["5", "3", "5"])
    runner = make_engine(engine, clock, sms=sms_service(engine, CountingTransport()),
                         actions=actions)
    await runner.run_due()
    clock.now += timedelta(hours=24)
    report = await runner.run_due()
    assert report.outcomes == {"escalated": 1}
    calls_due = []
    for _ in range(3):
        await runner.run_due()
        [call] = tasks(session, TaskKind.SURVEY_CALL)
        calls_due.append(call.due_at - clock.now)
        clock.now = call.due_at
    assert [c["channel"] for c in actions.calls] == ["PJSIP/09131234567@citizens"] * 3
    assert actions.calls[0]["variables"] == {
        "SURVEY_REQUEST": request.tracking_code, "CALL_PURPOSE": "survey"}
    assert actions.calls[0]["context"] == "outbound" and actions.calls[0]["exten"] == "survey"
    assert calls_due[:2] == [timedelta(minutes=30), timedelta(minutes=60)]
    [call] = tasks(session, TaskKind.SURVEY_CALL)
    assert (call.state, call.attempts) == ("failed", 3)
    assert [c[2] for c in contacts(session) if c[0] == "voice"] == ["busy", "no-answer", "busy"]
    assert (await runner.run_due()).claimed == 0
    # The SMS stayed answerable for a late reply until the look-back ends, then closes.
    [sms] = tasks(session, TaskKind.SURVEY_SMS)
    assert sms.state == "waiting"
    clock.now = sms.due_at
    assert (await runner.run_due()).outcomes == {"expired": 1}
    assert tasks(session, TaskKind.SURVEY_SMS)[0].state == "done"


async def test_answered_call_not_fixed_reopens_alerts_and_lists_a_task(
    engine: Engine, session: Session
) -> None:
    """Tried: the survey call is answered and the IVR stores 4 / not fixed. Expect the
    request reopened, a status outbox event for the department, a not_fixed task."""
    request = resolved_request(session)
    session.add(Task(kind=TaskKind.SURVEY_CALL, request_id=request.id,
                     citizen_id=request.citizen_id, due_at=T0, created_at=T0))
    session.commit()
    clock = Clock(T0 + timedelta(minutes=1))
    runner = make_engine(engine, clock, actions=FakeActions(["answer"]))
    assert (await runner.run_due()).outcomes == {"sent": 1}
    [call] = tasks(session, TaskKind.SURVEY_CALL)
    assert call.state == "waiting"
    store_answer(session=session, request=request, rating=4, fixed=False, channel="phone",
                 actor="ivr", now=clock.now)
    session.commit()
    report = await runner.run_due()
    assert report.settled == {request.id: "reopened"}
    session.refresh(request)
    assert request.status == RequestStatus.REOPENED and request.survey_rating == 4
    [not_fixed] = tasks(session, TaskKind.NOT_FIXED)
    assert not_fixed.state == "pending" and not_fixed.request_id == request.id
    [call] = tasks(session, TaskKind.SURVEY_CALL)
    assert call.state == "done"
    outbox = session.exec(select(OutboxItem).where(OutboxItem.request_id == request.id)).all()
    assert [o.payload["request"]["status"] for o in outbox][-1] == "reopened"


async def test_fixed_answer_closes_the_request_once(engine: Engine, session: Session) -> None:
    request = resolved_request(session)
    store_answer(session=session, request=request, rating=5, fixed=True, channel="sms",
                 actor="citizen", now=T0 + timedelta(minutes=5))
    session.commit()
    first = make_engine(engine, Clock(T0 + timedelta(minutes=6)), owner="a")
    second = make_engine(engine, Clock(T0 + timedelta(minutes=6)), owner="b")
    assert (await first.run_due()).settled == {request.id: "closed"}
    assert (await second.run_due()).settled == {}
    session.refresh(request)
    assert request.status == RequestStatus.CLOSED
    assert tasks(session) == []  # answered before any survey was scheduled


@pytest.mark.parametrize(("setup", "reason", "state"), [
    ("opt_out", "opted-out", "skipped"),
    ("friday", "friday", "pending"),
])
async def test_policy_refusals_are_recorded_with_their_reason(
    engine: Engine, session: Session, setup: str, reason: str, state: str
) -> None:
    request = resolved_request(session)
    now = T0 + timedelta(hours=1)
    if setup == "opt_out":
        from callcenter.citizens.models import Citizen
        citizen = session.get(Citizen, request.citizen_id)
        assert citizen is not None
        citizen.opted_out = True
        session.add(citizen)
        session.commit()
    else:
        now = T0 - timedelta(days=1) + timedelta(hours=1)  # Friday 11:30 Tehran
        request.resolved_at = now - timedelta(hours=1)
        session.add(request)
        session.commit()
    transport = CountingTransport()
    await make_engine(engine, Clock(now), sms=sms_service(engine, transport)).run_due()
    assert transport.sent == []
    assert contacts(session) == [("sms", "skipped", reason)]
    [task] = tasks(session)
    assert task.state == state
    if setup == "friday":
        assert task.due_at == datetime(2026, 12, 5, 5, 30, tzinfo=UTC)  # Saturday 09:00


class FreeAgents:
    def __init__(self, *members: dict[str, Any]) -> None:
        self.members = list(members)

    def snapshot(self) -> dict[str, Any]:
        return {"citizen-requests": {"members": self.members, "waiting": []}}


def member(interface: str, **state: Any) -> dict[str, Any]:
    return {"interface": interface, "name": interface, "paused": False, "in_call": False,
            "device_state": "not_inuse", **state}


async def test_auto_callback_rings_a_free_agent_then_the_citizen(
    engine: Engine, session: Session
) -> None:
    """Tried: a queued caller's callback task with 2101 paused and 2102 free; expect an
    originate to PJSIP/2102 into [outbound] callback with CITIZEN=<national number>."""
    from callcenter.citizens.services import get_or_create_citizen
    citizen = get_or_create_citizen(session=session, phone="+989121112233")
    session.commit()
    session.add(Task(kind=TaskKind.CALLBACK, citizen_id=citizen.id, due_at=T0,
                     created_at=T0, call_linkedid="1700.1"))
    session.commit()
    actions = FakeActions(["answer"])
    config = RunnerConfig(auto_callbacks=True)
    agents = FreeAgents(member("PJSIP/2101", paused=True), member("PJSIP/2102"))
    runner = make_engine(engine, Clock(T0), actions=actions, queue_state=agents,
                         config=config)
    assert (await runner.run_due()).outcomes == {"sent": 1}
    [call] = actions.calls
    assert call["channel"] == "PJSIP/2102" and call["exten"] == "callback"
    assert call["variables"] == {"CITIZEN": "09121112233", "CALL_PURPOSE": "callback"}
    [task] = tasks(session)
    assert task.state == "done" and task.attempts == 1


async def test_callbacks_wait_when_no_agent_is_free_or_auto_is_off(
    engine: Engine, session: Session
) -> None:
    from callcenter.citizens.services import get_or_create_citizen
    citizen = get_or_create_citizen(session=session, phone="+989121112233")
    session.commit()
    session.add(Task(kind=TaskKind.ABANDONED, citizen_id=citizen.id, due_at=T0, created_at=T0))
    session.commit()
    busy = FreeAgents(member("PJSIP/2101", in_call=True, device_state="inuse"))
    actions = FakeActions([])
    on = make_engine(engine, Clock(T0), actions=actions, queue_state=busy,
                     config=RunnerConfig(auto_callbacks=True))
    assert (await on.run_due()).outcomes == {"no-free-agent": 1}
    off = make_engine(engine, Clock(T0), actions=actions,
                      queue_state=FreeAgents(member("PJSIP/2101")),
                      config=RunnerConfig(auto_callbacks=False))
    assert (await off.run_due()).claimed == 0
    assert actions.calls == [] and tasks(session)[0].state == "pending"


def run_in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_two_instances_with_their_own_engines_send_each_survey_exactly_once(
    engine: Engine, session: Session
) -> None:
    """Tried: 40 due surveys; two instances (threads, each with its own SQLAlchemy engine
    and event loop) run passes concurrently until nothing is left. Expect 40 SMS, one per
    citizen, and no error."""
    import asyncio

    from callcenter.db.engine import build_engine

    for n in range(40):
        resolved_request(session, phone=f"0913{5000000 + n}")
    transport = CountingTransport()
    url = engine.url.render_as_string(hide_password=False)
    reports: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def instance(owner: str) -> None:
        own = build_engine(url)
        runner = make_engine(own, Clock(T0 + timedelta(hours=1)),
                             sms=sms_service(own, transport), owner=owner,
                             config=RunnerConfig(batch=7, survey_delay=timedelta(hours=1)))
        barrier.wait()
        for _ in range(12):
            reports.append(asyncio.run(runner.run_due()).as_dict())
        own.dispose()

    threads = [run_in_thread(lambda o=o: instance(o)) for o in ("one", "two")]  # type: ignore[misc]
    for thread in threads:
        thread.join(timeout=120)
    phones = [to for to, _ in transport.sent]
    assert len(phones) == 40 and len(set(phones)) == 40
    assert not any(r.get("error") for r in reports)
    assert sum(r["claimed"] for r in reports) == 40
    assert {t.state for t in tasks(session)} == {"waiting"}


async def test_a_late_sms_reply_still_counts_and_cancels_the_pending_call(
    engine: Engine, session: Session
) -> None:
    """Tried: no reply within the window (escalated to a call, the line busy), then the
    citizen answers the SMS through intake's reply hook. Expect the rating stored, the
    request closed, the call task done with no further call."""
    from callcenter.citizens.models import Citizen
    from callcenter.sms.survey import pending_survey, record_survey_answer

    request = resolved_request(session)
    clock = Clock(T0 + timedelta(hours=1))
    actions = FakeActions(["5"])
    runner = make_engine(engine, clock, sms=sms_service(engine, CountingTransport()),
                         actions=actions)
    await runner.run_due()
    clock.now += timedelta(hours=24)
    await runner.run_due()  # escalated
    await runner.run_due()  # busy: retry in 30 minutes
    assert len(actions.calls) == 1
    citizen = session.get(Citizen, request.citizen_id)
    assert citizen is not None
    waiting = pending_survey(session=session, citizen=citizen)
    assert waiting is not None and waiting.kind == TaskKind.SURVEY_SMS
    record_survey_answer(session=session, task=waiting, rating=3)
    answered = session.get(CitizenRequest, request.id)
    assert answered is not None
    answered.survey_at = clock.now  # the reply's time on the test clock
    session.commit()
    clock.now += timedelta(hours=1)
    report = await runner.run_due()
    assert report.settled == {request.id: "closed"} and report.claimed == 0
    assert len(actions.calls) == 1
    assert {(t.kind, t.state) for t in tasks(session)} == {("survey_sms", "done"),
                                                           ("survey_call", "done")}


async def test_an_unanswered_auto_callback_retries_then_stays_on_the_agents_list(
    engine: Engine, session: Session
) -> None:
    """Tried: the free agent never answers; passes every 5 minutes for an hour. Expect
    three originates backing off (5, then 10 minutes after a failure), each failure
    logged, then the task still pending (for a person) and no longer claimed."""
    from callcenter.citizens.services import get_or_create_citizen
    citizen = get_or_create_citizen(session=session, phone="+989121112233")
    session.commit()
    session.add(Task(kind=TaskKind.CALLBACK, citizen_id=citizen.id, due_at=T0, created_at=T0))
    session.commit()
    actions = FakeActions(["3", "3", "3"])
    clock = Clock(T0)
    runner = make_engine(engine, clock, actions=actions,
                         queue_state=FreeAgents(member("PJSIP/2101")),
                         config=RunnerConfig(auto_callbacks=True))
    placed_at: list[datetime] = []
    for _ in range(12):
        before = len(actions.calls)
        await runner.run_due()
        if len(actions.calls) > before:
            placed_at.append(clock.now)
        clock.now += timedelta(minutes=5)
    assert len(actions.calls) == 3
    assert [b - a for a, b in pairwise(placed_at)] == [
        timedelta(minutes=5), timedelta(minutes=10)]
    [task] = tasks(session)
    assert (task.state, task.attempts) == ("pending", 3)
    assert [c[1:] for c in contacts(session)] == [("failed", "agent-originate-failed")] * 3


def test_two_instances_settle_each_answer_exactly_once(
    engine: Engine, session: Session
) -> None:
    """Tried: 20 answered requests (half "not fixed"); two instances with their own
    engines settle at the same time. Expect each request moved once: one status event,
    one outbox status item, one not_fixed task per "not fixed"."""
    import asyncio

    from callcenter.cases.models import RequestEvent
    from callcenter.db.engine import build_engine

    ids: list[int] = []
    for n in range(20):
        request = resolved_request(session, phone=f"0913{6000000 + n}")
        store_answer(session=session, request=request, rating=2, fixed=n % 2 == 0,
                     channel="sms", actor="citizen", now=T0 + timedelta(minutes=1))
        session.commit()
        assert request.id is not None
        ids.append(request.id)
    url = engine.url.render_as_string(hide_password=False)
    barrier = threading.Barrier(2)
    settled: list[int] = []

    def instance(owner: str) -> None:
        own = build_engine(url)
        runner = make_engine(own, Clock(T0 + timedelta(minutes=2)), owner=owner)
        barrier.wait()
        settled.extend(asyncio.run(runner.run_due()).settled)
        own.dispose()

    threads = [run_in_thread(lambda o=o: instance(o)) for o in ("one", "two")]  # type: ignore[misc]
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(settled) == sorted(ids)
    session.rollback()  # a fresh snapshot: a SQLite read transaction keeps its own
    session.expire_all()
    moves = session.exec(select(RequestEvent.request_id).where(RequestEvent.kind == "status")
                         .where(RequestEvent.from_status == "resolved")).all()
    assert sorted(moves) == sorted(ids)
    outbox = [o.payload["request"]["status"] for o in session.exec(select(OutboxItem)).all()]
    assert outbox.count("reopened") == 10 and outbox.count("closed") == 10
    assert len(tasks(session, TaskKind.NOT_FIXED)) == 10


async def test_escalating_twice_keeps_the_sms_task_update(engine: Engine, session: Session
                                                          ) -> None:
    """Tried (issue 21, the nested block of ``escalate``): another instance already wrote
    this resolution's survey call when the SMS window ends. Expect its INSERT undone
    alone: one survey call (the other's), the SMS task still moved on to "escalated"."""
    from callcenter.followups.surveys import survey_key

    request = resolved_request(session)
    assert request.id is not None
    clock = Clock(T0 + timedelta(hours=1))
    runner = make_engine(engine, clock, sms=sms_service(engine, CountingTransport()),
                         actions=FakeActions([]))
    assert (await runner.run_due()).outcomes == {"sent": 1}
    later = T0 + timedelta(days=30)
    session.add(Task(kind=TaskKind.SURVEY_CALL, request_id=request.id, due_at=later,
                     citizen_id=request.citizen_id, created_at=T0, updated_at=T0,
                     dedupe_key=survey_key(TaskKind.SURVEY_CALL, request.id, T0)))
    session.commit()
    clock.now += timedelta(hours=24)
    assert (await runner.run_due()).outcomes == {"escalated": 1}
    [call] = tasks(session, TaskKind.SURVEY_CALL)
    assert call.due_at == later and call.attempts == 0
    [sms] = tasks(session, TaskKind.SURVEY_SMS)
    assert sms.state == "waiting"
    assert (sms.result or {}).get("phase") == "escalated"
    assert (sms.result or {}).get("escalated") == "no-reply"


async def test_a_durable_survey_sms_is_queued_with_the_task_and_sent_once(
    engine: Engine, session: Session
) -> None:
    """Tried: the runner as ``serve`` builds it (``durable_sms``): the survey SMS is a
    citizen message queued in the transaction that moves the task to waiting; the message
    delivery sends it once; later passes queue nothing more."""
    from support.messages import CapturingTransport, deliver_queued

    from callcenter.messages.models import CitizenMessage

    resolved_request(session)
    clock = Clock(T0 + timedelta(minutes=30))
    runner = FollowupRunner(engine=engine, config=CONFIG, policy=POLICY, sms=None,
                            clock=clock, owner="test", durable_sms=True)
    assert (await runner.run_due()).scheduled == 1
    clock.now = T0 + timedelta(hours=1)
    report = await runner.run_due()
    assert report.outcomes == {"queued": 1}
    [task] = tasks(session)
    assert (task.state, task.attempts) == ("waiting", 1)
    assert contacts(session) == [("sms", "sent", "queued")]
    transport = CapturingTransport()
    assert len((await deliver_queued(engine, transport)).sent) == 1
    assert len((await deliver_queued(engine, transport)).sent) == 0
    assert transport.sent[0][0] == "+989131234567" and "۱ تا ۵" in transport.sent[0][1]
    clock.now += timedelta(hours=2)
    await runner.run_due()
    session.rollback()
    [message] = session.exec(select(CitizenMessage)).all()
    assert (message.kind, message.state) == ("survey", "sent")
