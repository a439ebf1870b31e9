"""Wrap-up pauses the agent in Asterisk, end to end: two SIPp callers, one SIPp agent,
the real ``callcenter serve`` over AMI. The second caller waits while the agent is in
wrap-up (QueuePause reason wrap-up) and rings only when the maximum ends it."""

from __future__ import annotations

import pytest
from support.ami_client import AmiClient
from support.bridge import Bridge
from support.sipp import AwaitHangup, Digits, Pause, SippRunner
from test_ivr_calls import GREETING, add_agent, call_of

WRAP_UP_MAX = 6.0


@pytest.fixture
def bridge_env(bridge_env: dict[str, str]) -> dict[str, str]:
    return {**bridge_env, "CALLCENTER_WRAP_UP_PAUSE": "true",
            "CALLCENTER_WRAP_UP_MAX_SECONDS": str(WRAP_UP_MAX)}


async def test_second_caller_rings_only_after_wrap_up(
        bridge: Bridge, sipp: SippRunner, ami: AmiClient) -> None:
    first, second = "09135550471", "09135550472"
    await add_agent(ami, "2101")
    agent = await sipp.agent(extension="2101", answer_after=1, talk_for=3, calls=2,
                             max_seconds=90)
    start = len(ami.events)
    citizens = await sipp.citizen(callers=[first, second], rate=1,
                                  steps=[Pause(GREETING), Digits("0"), AwaitHangup(70)],
                                  max_seconds=90)
    called, answered = await citizens.wait(), await agent.wait()
    assert called.ok, called.describe()
    assert answered.outcomes.count("local_bye") == 2, answered.describe()

    one, two = call_of(bridge, first), call_of(bridge, second)
    assert one.agent == "2101" and two.agent == "2101"
    assert one.ended_at is not None and two.answered_at is not None
    # The agent was paused for wrap-up when the first call ended, then unpaused...
    pauses = [(e.get("Paused"), e.get("PausedReason", e.get("Reason", "")))
              for e in ami.named("QueueMemberPause", start)
              if e.get("Interface") == "PJSIP/2101"]
    assert pauses[:2] == [("1", "wrap-up"), ("0", "")], pauses
    # ... and the second caller's ring came only after the wrap-up maximum.
    rings = [e for e in ami.named("AgentCalled", start) if e.get("Interface") == "PJSIP/2101"]
    assert [e.get("CallerIDNum") for e in rings] == [first, second], rings
    ended = one.ended_at.timestamp()
    rang = float(rings[1]["Timestamp"])
    assert WRAP_UP_MAX - 1.0 <= rang - ended <= WRAP_UP_MAX + 4.0, (rang - ended)
