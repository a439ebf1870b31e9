"""Callbacks keep their turn (SQLite and PostgreSQL): when an agent is free, a callback
whose caller joined the queue before the head of the live queue goes first; one that
joined later leaves the agent to the older live caller. Automatic callbacks are on by
default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.ami.actions import OriginateResult
from callcenter.citizens.services import get_or_create_citizen
from callcenter.followups.config import RunnerConfig
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.policy import build_policy
from callcenter.followups.runner import FollowupRunner
from callcenter.reference.hours import Holidays
from callcenter.settings import Settings

T0 = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # Saturday 10:30 Tehran
POLICY = build_policy(zone="Asia/Tehran", opens=datetime.min.time().replace(hour=9),
                      closes=datetime.min.time().replace(hour=20), open_on_friday=False,
                      cap=3, period=timedelta(days=7),
                      holidays=Holidays(yearly=frozenset(), dated=frozenset()))


class Queue:
    """The live queue as the AMI bridge sees it: one free agent, callers waiting."""

    def __init__(self, *waits: int, paused: bool = False) -> None:
        self.waits = waits
        self.paused = paused

    def snapshot(self) -> dict[str, Any]:
        return {"citizen-requests": {
            "members": [{"interface": "PJSIP/2101", "name": "a", "paused": self.paused,
                         "in_call": False, "device_state": "not_inuse"}],
            "waiting": [{"uniqueid": f"u{i}", "caller": "0913", "position": i + 1,
                         "wait_seconds": w} for i, w in enumerate(self.waits)]}}


class Actions:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def originate(self, **kwargs: Any) -> OriginateResult:
        self.calls.append(kwargs)
        return OriginateResult(action_id="x", channel=kwargs["channel"], uniqueid="1.1",
                               reason="4")


def callback(session: Session, phone: str, joined: datetime) -> int:
    citizen = get_or_create_citizen(session=session, phone=phone)
    session.commit()
    task = Task(kind=TaskKind.CALLBACK, citizen_id=citizen.id, due_at=joined, created_at=T0)
    session.add(task)
    session.commit()
    assert task.id is not None
    return task.id


def runner(engine: Engine, queue: Queue, actions: Actions) -> FollowupRunner:
    return FollowupRunner(engine=engine, config=RunnerConfig(), policy=POLICY,
                          actions=actions, queue_state=queue, clock=lambda: T0)


def test_automatic_callbacks_are_on_by_default() -> None:
    assert Settings().auto_callbacks and RunnerConfig().auto_callbacks


async def test_a_callback_older_than_the_queue_head_is_placed_first(
        engine: Engine, session: Session) -> None:
    """The callback's caller joined 5 minutes ago; the live head has waited 2 minutes:
    the free agent rings for the callback."""
    callback(session, "+989121110001", T0 - timedelta(minutes=5))
    actions = Actions()
    report = await runner(engine, Queue(120, 30), actions).run_due()
    assert report.outcomes == {"sent": 1}
    assert actions.calls[0]["variables"]["CITIZEN"] == "09121110001"


async def test_a_callback_younger_than_the_queue_head_waits_its_turn(
        engine: Engine, session: Session) -> None:
    """The callback's caller joined 1 minute ago; the live head has waited 4 minutes:
    the agent is left to the queue (Asterisk rings them for the head)."""
    task_id = callback(session, "+989121110002", T0 - timedelta(minutes=1))
    actions = Actions()
    report = await runner(engine, Queue(240), actions).run_due()
    assert report.outcomes == {"queue-ahead": 1} and actions.calls == []
    session.expire_all()
    task = session.exec(select(Task).where(Task.id == task_id)).one()
    assert task.state == "pending" and task.attempts == 0
    # the head was answered: nobody waits, the callback goes next
    assert (await runner(engine, Queue(), actions).run_due()).outcomes == {"sent": 1}


async def test_two_callbacks_go_in_the_order_their_callers_queued(
        engine: Engine, session: Session) -> None:
    callback(session, "+989121110004", T0 - timedelta(minutes=2))
    callback(session, "+989121110003", T0 - timedelta(minutes=6))
    actions = Actions()
    await runner(engine, Queue(), actions).run_due()  # one free agent: one call
    assert [c["variables"]["CITIZEN"] for c in actions.calls] == ["09121110003"]


async def test_the_end_of_wrap_up_gives_the_agent_to_an_older_callback(
        engine: Engine, session: Session) -> None:
    """The agent is still paused (wrap-up), so not free in the queue view: the end of
    wrap-up asks the runner, which rings this agent for the callback whose caller joined
    before the live head; a younger callback is left (the queue's head goes first)."""
    callback(session, "+989121110005", T0 - timedelta(minutes=1))
    paused = Queue(240, paused=True)
    actions = Actions()
    run = runner(engine, paused, actions)
    assert not await run.place_next_callback("PJSIP/2101")  # head waited 4 min: older
    assert actions.calls == []
    callback(session, "+989121110006", T0 - timedelta(minutes=9))
    assert await run.place_next_callback("PJSIP/2101")
    assert [(c["channel"], c["variables"]["CITIZEN"]) for c in actions.calls] == [
        ("PJSIP/2101", "09121110006")]
