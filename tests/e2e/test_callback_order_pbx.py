"""Callbacks keep their turn, end to end: SIPp callers, one SIPp agent, the citizens'
trunk answered by SIPp, the real ``callcenter serve`` with automatic callbacks and the
wrap-up pause on (``followups/callbacks.py``, README "Callbacks keep their turn").

Agent 2101 is on a first call; caller A queues behind it and presses 1 (call me back);
caller B queues and waits. When the first call's wrap-up ends, the bridge decides
(the agent still paused): the callback rings the agent first, then A's number on the
trunk, if A joined the queue before B; otherwise B rings first, the callback after B's
call. The order is read from AMI events (what Asterisk rang) and from the store.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.sipp import AwaitHangup, Digits, Pause, SippRunner, Step
from test_ivr_calls import GREETING, PLEASE_HOLD, add_agent, call_of

from callcenter.callrecords.models import Call
from callcenter.citizens.models import Citizen
from callcenter.followups.models import Task

AGENT = "2101"
WRAP_UP_MAX = 5.0
FIRST_CALL_TALK = 14.0  # long enough for both callers to queue behind it, A to press 1
TALK = 3.0  # the callback's and B's calls
START_GAP = 3.0  # between callers dialling: join times (whole seconds) at least 2 s apart
WAITS: list[Step] = [Pause(GREETING), Digits("0"), AwaitHangup(80)]
# 1 pressed 9 s after joining: second in the queue, Asterisk tells the position at the
# join ("there are" 2 "calls waiting", ~6 s) and keys pressed meanwhile are lost (seen).
CALL_ME_BACK: list[Step] = [Pause(GREETING), Digits("0"), Pause(PLEASE_HOLD + 9.0), Digits("1"),
                            AwaitHangup(30)]


@pytest.fixture
def bridge_env(bridge_env: dict[str, str]) -> dict[str, str]:
    return {
        **bridge_env,
        "CALLCENTER_AUTO_CALLBACKS": "true",
        "CALLCENTER_WRAP_UP_PAUSE": "true",
        "CALLCENTER_WRAP_UP_MAX_SECONDS": str(WRAP_UP_MAX),
        # Calling hours around the clock: the test must not depend on when it runs.
        "CALLCENTER_CALLING_HOURS_START": "00:00:00",
        "CALLCENTER_CALLING_HOURS_END": "23:59:59",
        "CALLCENTER_CALLING_ON_FRIDAY": "true",
        # Only the end of a wrap-up decides here (the periodic pass's same rule is a
        # store test): a pass running at that instant would make the hook step aside.
        "CALLCENTER_FOLLOWUPS_INTERVAL_SECONDS": "3600",
        # The start-up recovery must not bring back the last test's abandoned calls: as
        # callbacks older than A they would rightly take the agent first (seen).
        "CALLCENTER_RECOVERY_LOOKBACK_HOURS": "0.0003",
    }


async def queue_behind_a_call(sipp: SippRunner, ami: AmiClient, *, busy: str,
                              callers: list[tuple[str, list[Step]]]) -> int:
    """The agent answers ``busy``; ``callers`` dial ``START_GAP`` apart and queue behind.
    When the first call is over (its wrap-up running) the agent's phone is replaced by
    one for the next two calls (the callback, the other caller); the trunk answers the
    callback. Every call must end as scripted. Returns the AMI index before the calls."""
    await add_agent(ami, AGENT)
    start = len(ami.events)
    trunk = await sipp.called_citizen(answer_after=1, talk_for=40, max_seconds=90)
    phone = await sipp.agent(extension=AGENT, answer_after=1, talk_for=FIRST_CALL_TALK,
                             max_seconds=60)
    citizens = [await sipp.citizen(callers=[busy], steps=WAITS, max_seconds=60)]
    for number, steps in callers:
        await asyncio.sleep(START_GAP)  # spacing the dialling, not waiting for a result
        citizens.append(await sipp.citizen(callers=[number], steps=steps, max_seconds=90))
    first = await phone.wait()
    assert first.outcomes == ["ringing", "answered", "local_bye"], first.describe()
    phone = await sipp.agent(extension=AGENT, answer_after=1, talk_for=TALK, calls=2,
                             max_seconds=60)
    answered, reached = await phone.wait(), await trunk.wait()
    assert answered.outcomes == ["ringing", "answered", "local_bye"] * 2, answered.describe()
    assert reached.outcomes == ["ringing", "answered", "remote_bye"], reached.describe()
    for citizen in citizens:
        called = await citizen.wait()
        assert called.outcomes == ["answered", "remote_bye"], called.describe()
    return start


def agent_offers(ami: AmiClient, start: int) -> list[tuple[str, str]]:
    """What agent 2101's phone was offered, in order: ("queue", caller) when the queue
    rang it; for the bridge's callback Originate ("originate", "") when it rang,
    ("agent-answered", number shown) when the agent answered, ("trunk", number) when the
    dialplan then dialled the citizen."""
    offers = []
    own = f"PJSIP/{AGENT}-"
    for event in ami.events[start:]:
        name, dest = event.get("Event"), event.get("DestChannel", "")
        if name == "AgentCalled" and event.get("Interface") == f"PJSIP/{AGENT}":
            offers.append(("queue", event.get("CallerIDNum", "")))
        elif name == "DialBegin" and dest.startswith(own) and not event.get("Channel"):
            offers.append(("originate", ""))  # Originate's own dial: no calling channel
        elif name == "OriginateResponse" and event.get("Channel", "").startswith(own):
            assert event.get("Response") == "Success", event
            offers.append(("agent-answered", event.get("CallerIDNum", "")))
        elif (name == "DialBegin" and dest.startswith("PJSIP/citizens-")
              and event.get("Channel", "").startswith(own)):
            offers.append(("trunk", event.get("DialString", "").split("@")[0]))
    return offers


def callback_placed(number: str) -> list[tuple[str, str]]:
    return [("originate", ""), ("agent-answered", number), ("trunk", number)]


def callback_task(bridge: Bridge, phone: str) -> Task:
    def done(session: Session) -> Task | None:
        citizen = session.exec(select(Citizen).where(Citizen.phone == phone)).first()
        if citizen is None:
            return None
        return session.exec(select(Task).where(Task.citizen_id == citizen.id)
                            .where(Task.kind == "callback").where(Task.state == "done")).first()

    return bridge.wait_for(done, seconds=20)


def callback_call(bridge: Bridge, citizen_id: int) -> Call:
    return bridge.wait_for(lambda s: s.exec(
        select(Call).where(Call.citizen_id == citizen_id).where(Call.direction == "outbound")
        .where(Call.ended_at.is_not(None))).first(), seconds=20)  # type: ignore[union-attr]


def first_unpause(ami: AmiClient, start: int) -> float:
    """When the first wrap-up ended: the bridge unpaused agent 2101 (after deciding)."""
    return next(float(e["Timestamp"]) for e in ami.named("QueueMemberPause", start)
                if e.get("Interface") == f"PJSIP/{AGENT}" and e.get("Paused") == "0")


def assert_callback_done(bridge: Bridge, ami: AmiClient, start: int, number: str) -> Call:
    """A's task is done (placed on agent 2101), A's call ended as a callback request;
    the task existed when the first wrap-up ended (so that decision weighed it).
    Returns the callback's own call record (agent 2101, A the citizen)."""
    task = callback_task(bridge, "+98" + number[1:])
    assert task.result is not None
    assert (task.result["phase"], task.result["agent"]) == ("placed", f"PJSIP/{AGENT}")
    asked = call_of(bridge, number)
    assert (task.call_linkedid, asked.outcome) == (asked.linkedid, "callback")
    assert task.created_at.timestamp() < first_unpause(ami, start), task.created_at
    assert task.citizen_id is not None
    back = callback_call(bridge, task.citizen_id)
    assert back.agent == AGENT and back.answered_at is not None
    return back


async def test_callback_of_an_earlier_caller_rings_before_a_later_one(
        bridge: Bridge, sipp: SippRunner, ami: AmiClient) -> None:
    """A joins, asks for a callback; B joins after A: at the end of the first call's
    wrap-up the callback (the agent, then A's number) is placed before B is rung."""
    busy, a, b = "09135550481", "09135550482", "09135550483"
    start = await queue_behind_a_call(sipp, ami, busy=busy,
                                      callers=[(a, CALL_ME_BACK), (b, WAITS)])

    joins = [e.get("CallerIDNum") for e in ami.named("QueueCallerJoin", start)]
    assert joins == [busy, a, b], joins  # the precondition: A queued before B
    offers = agent_offers(ami, start)
    assert offers == [("queue", busy), *callback_placed(a), ("queue", b)], offers
    back, later = assert_callback_done(bridge, ami, start, a), call_of(bridge, b)
    assert (later.agent, later.outcome) == (AGENT, "answered")
    assert back.answered_at and later.answered_at and back.answered_at < later.answered_at


async def test_a_caller_who_joined_before_the_callback_keeps_the_agent(
        bridge: Bridge, sipp: SippRunner, ami: AmiClient) -> None:
    """B joins first, then A joins and asks for a callback: B is rung at the end of the
    first call's wrap-up, the callback is placed after B's call (its wrap-up)."""
    busy, b, a = "09135550484", "09135550485", "09135550486"
    start = await queue_behind_a_call(sipp, ami, busy=busy,
                                      callers=[(b, WAITS), (a, CALL_ME_BACK)])

    joins = [e.get("CallerIDNum") for e in ami.named("QueueCallerJoin", start)]
    assert joins == [busy, b, a], joins  # the precondition: B queued before A
    offers = agent_offers(ami, start)
    assert offers == [("queue", busy), ("queue", b), *callback_placed(a)], offers
    back, earlier = assert_callback_done(bridge, ami, start, a), call_of(bridge, b)
    assert (earlier.agent, earlier.outcome) == (AGENT, "answered")
    assert back.answered_at and earlier.answered_at and earlier.answered_at < back.answered_at
