"""The bridge's AMI actions against the real sandbox Asterisk 22 (queue citizen-requests).

QueueAdd is the action plain panoramisk 1.4 never returns from; here it must return,
and the queue state the bridge keeps must follow what Asterisk reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from support.agi_stub import AgiSession, AgiStub, Flow
from support.ami_client import AmiClient
from support.pbx_sandbox import QUEUE, SandboxPbx
from support.sipp import AwaitHangup, Pause, SippRunner

from callcenter.ami.bridge import AmiBridge
from callcenter.ami.exceptions import AmiActionFailed
from callcenter.calls import events as ev

StartAgi = Callable[[Flow], Awaitable[AgiStub]]

AGENT = "PJSIP/2103"


@pytest.fixture
async def bridge(pbx: SandboxPbx, ami: AmiClient) -> AsyncIterator[AmiBridge]:
    """The bridge's AMI side logged in to the sandbox and resynchronised once."""
    bridge = AmiBridge(
        host=pbx.ami_host, port=pbx.ami_port, username=pbx.ami_user, secret=pbx.ami_secret
    )
    bridge.start()
    try:
        await until(lambda: bridge.resyncs >= 1, seconds=10)
        yield bridge
    finally:
        await bridge.stop()


async def until(predicate: Callable[[], bool], *, seconds: float = 5.0) -> None:
    """Poll state that AMI events update (they offer nothing to await)."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


def member(bridge: AmiBridge) -> dict[str, Any] | None:
    members = bridge.queue_state.snapshot().get(QUEUE, {}).get("members", [])
    return next((m for m in members if m["interface"] == AGENT), None)


async def test_queue_add_pause_remove(bridge: AmiBridge, ami: AmiClient) -> None:
    async with asyncio.timeout(5):  # plain panoramisk would hang here forever
        added = await bridge.actions.queue_add(queue=QUEUE, interface=AGENT, member_name="2103")
    assert added["Response"] == "Success"
    await ami.wait_for(
        lambda e: e.get("Event") == "QueueMemberAdded" and e.get("Interface") == AGENT,
        seconds=5,
    )
    await until(lambda: member(bridge) is not None)

    await bridge.actions.queue_pause(interface=AGENT, queue=QUEUE, paused=True, reason="ناهار")
    await until(lambda: (member(bridge) or {}).get("paused") is True)
    assert (member(bridge) or {})["paused_reason"] == "ناهار"

    await bridge.actions.queue_pause(interface=AGENT, queue=QUEUE, paused=False)
    await until(lambda: (member(bridge) or {}).get("paused") is False)

    with pytest.raises(AmiActionFailed):  # already a member
        await bridge.actions.queue_add(queue=QUEUE, interface=AGENT)

    removed = await bridge.actions.queue_remove(queue=QUEUE, interface=AGENT)
    assert removed["Response"] == "Success"
    await until(lambda: member(bridge) is None)


async def test_resync_reads_members_added_while_the_bridge_was_away(
    pbx: SandboxPbx, ami: AmiClient
) -> None:
    await ami.action("QueueAdd", Queue=QUEUE, Interface=AGENT, Paused="true", Reason="break")
    bridge = AmiBridge(
        host=pbx.ami_host, port=pbx.ami_port, username=pbx.ami_user, secret=pbx.ami_secret
    )
    bridge.start()
    try:
        await until(lambda: bridge.resyncs >= 1, seconds=10)
        found = member(bridge)
        assert found is not None and found["paused"] is True
    finally:
        await bridge.stop()
        await ami.action("QueueRemove", Queue=QUEUE, Interface=AGENT)


async def test_the_tracker_follows_a_real_queue_call(
    pbx: SandboxPbx, ami: AmiClient, sipp: SippRunner, agi_server: StartAgi
) -> None:
    """Live Asterisk 22 traffic through the bridge's protocol, router and tracker."""

    async def ivr(session: AgiSession) -> None:
        await session.command("SET VARIABLE IVR_CHOICE 0")
        await session.command("SET VARIABLE IVR_REQUEST 1403-0042-7")
        await session.command("SET VARIABLE IVR_NEXT queue")

    await agi_server(ivr)
    seen: list[ev.CallEvent] = []
    bridge = AmiBridge(
        host=pbx.ami_host,
        port=pbx.ami_port,
        username=pbx.ami_user,
        secret=pbx.ami_secret,
        on_call_event=seen.append,
    )
    bridge.start()
    try:
        await until(lambda: bridge.resyncs >= 1, seconds=10)
        await bridge.actions.queue_add(queue=QUEUE, interface="PJSIP/2101", member_name="2101")
        agent = await sipp.agent(extension="2101", answer_after=1, talk_for=2, max_seconds=40)
        citizen = await sipp.citizen(
            callers=["09131112233"], steps=[Pause(1), AwaitHangup(30)], max_seconds=40
        )
        assert (await citizen.wait()).ok
        assert (await agent.wait()).ok
        await until(lambda: any(isinstance(x, ev.CallEnded) for x in seen), seconds=10)
    finally:
        await bridge.stop()
    (ringing,) = [x for x in seen if isinstance(x, ev.AgentRinging)]
    assert (ringing.agent, ringing.interface, ringing.queue) == ("2101", "PJSIP/2101", QUEUE)
    assert ringing.caller == "09131112233"
    assert ringing.ivr_path == ("0",) and ringing.request_code == "1403-0042-7"
    (answered,) = [x for x in seen if isinstance(x, ev.CallAnswered)]
    assert answered.agent == "2101"
    (ended,) = [x for x in seen if isinstance(x, ev.CallEnded)]
    assert ended.outcome is ev.Outcome.ANSWERED
    assert (ended.caller, ended.answered_by, ended.queue) == ("09131112233", "2101", QUEUE)
    assert ended.hangup_by == "2101"  # the SIPp agent sends the BYE
    assert ended.parties == ("09131112233", "2101")
    assert ended.talk_seconds >= 1.5
    assert bridge.tracker.errors == 0
