"""Callbacks keep their turn, end to end: one SIPp agent, the real ``callcenter serve``
over AMI. While the agent talks to caller A, caller X queues; a callback whose caller
joined the queue earlier (10 minutes ago) is waiting on the list. When A's wrap-up ends
the bridge - the agent still paused - rings the agent for the older callback, then the
citizen (the trunk's SIPp phone); X, who joined later, is not rung before it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.sipp import AwaitHangup, Digits, Hangup, Pause, SippRunner
from test_ivr_calls import GREETING, PLEASE_HOLD, add_agent

from callcenter.citizens.services import get_or_create_citizen
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import Task, TaskKind

WRAP_UP = 4.0


@pytest.fixture
def bridge_env(bridge_env: dict[str, str]) -> dict[str, str]:
    return {**bridge_env, "CALLCENTER_WRAP_UP_PAUSE": "true",
            "CALLCENTER_WRAP_UP_MAX_SECONDS": str(WRAP_UP),
            # only the end of wrap-up places the callback in this test
            "CALLCENTER_FOLLOWUPS_INTERVAL_SECONDS": "600",
            "CALLCENTER_CALLING_HOURS_START": "00:00:00",
            "CALLCENTER_CALLING_HOURS_END": "23:59:59", "CALLCENTER_CALLING_ON_FRIDAY": "true"}


async def test_an_older_callback_goes_before_a_younger_live_caller(
        bridge: Bridge, sipp: SippRunner, ami: AmiClient) -> None:
    first, later = "09135550481", "09135550482"
    with session_scope(bridge.engine) as session:
        citizen = get_or_create_citizen(session=session, phone="09121110007")
        task = Task(kind=TaskKind.CALLBACK, citizen_id=citizen.id,
                    due_at=utcnow() - timedelta(minutes=10), note="callback from the IVR")
        session.add(task)
        session.flush()
        task_id = task.id
    await add_agent(ami, "2101")
    agent = await sipp.agent(extension="2101", answer_after=1, talk_for=15, calls=2,
                             max_seconds=120)
    called = await sipp.called_citizen(answer_after=1, talk_for=5, max_seconds=120)
    start = len(ami.events)
    a = await sipp.citizen(callers=[first], steps=[Pause(GREETING), Digits("0"),
                                                   AwaitHangup(60)], max_seconds=90)
    await ami.wait_for(lambda e: e.get("Event") == "AgentConnect"
                       and e.get("CallerIDNum") == first, seconds=40, start=start)
    # X joins the queue while A talks (about 12 s later) and gives up after 16 s there.
    x = await sipp.citizen(callers=[later], steps=[Pause(GREETING), Digits("0"),
                                                   Pause(PLEASE_HOLD + 16), Hangup()],
                           max_seconds=90)
    assert (await a.wait()).ok
    assert (await x.wait()).ok
    assert (await agent.wait()).outcomes.count("answered") == 2
    assert "answered" in (await called.wait()).outcomes

    rang = [e.get("CallerIDNum") for e in ami.named("AgentCalled", start)
            if e.get("Interface") == "PJSIP/2101"]
    assert rang == [first], rang  # X was never offered the agent ahead of the callback
    done = bridge.wait_for(lambda s: s.exec(select(Task).where(Task.id == task_id)
                                            .where(Task.state == "done")).first(),
                           seconds=20)
    assert (done.result or {}).get("agent") == "PJSIP/2101"
