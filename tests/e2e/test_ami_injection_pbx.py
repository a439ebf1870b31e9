"""AMI injection and the restricted grant, against the real sandbox Asterisk 22.

The sandbox installs ``config/asterisk/manager.conf`` as deployed, so these tests run
under the narrowed grant (``read = call,dialplan,agent,user,system``, ``write =
originate,agent,call,reporting``).

What was tried (issue 12, High 1): with a citizen on the line, the break reason
``x\\r\\n\\r\\nAction: Hangup\\r\\nChannel: /.*/`` (and the same in a MemberName and a
channel name) through the bridge's own ``AmiActions``. Before the fix Asterisk read a
second action and hung the citizen up; now the bridge refuses before writing, the call
stays up, and the honest break that follows is exactly one QueuePause.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from support.agi_stub import AgiSession, AgiStub, Flow
from support.ami_client import AmiClient
from support.pbx_sandbox import QUEUE, SandboxPbx
from support.sipp import Hangup, Pause, SippRunner

from callcenter.ami.bridge import AmiBridge
from callcenter.ami.exceptions import AmiActionFailed, AmiInvalidValue, OriginateFailed

StartAgi = Callable[[Flow], Awaitable[AgiStub]]

AGENT = "PJSIP/2103"
HANGUP_ALL = "x\r\n\r\nAction: Hangup\r\nChannel: /.*/"
CALLER = "09131110012"


@pytest.fixture
async def bridge(pbx: SandboxPbx, ami: AmiClient) -> AsyncIterator[AmiBridge]:
    """The bridge's AMI side logged in to the sandbox and resynchronised once."""
    bridge = AmiBridge(
        host=pbx.ami_host, port=pbx.ami_port, username=pbx.ami_user, secret=pbx.ami_secret
    )
    bridge.start()
    try:
        async with asyncio.timeout(10):
            while bridge.resyncs < 1:  # noqa: ASYNC110 - AMI callbacks offer nothing to await
                await asyncio.sleep(0.02)
        yield bridge
    finally:
        await bridge.stop()


async def test_injection_does_not_hang_up_the_call_and_the_break_is_one_action(
    bridge: AmiBridge, ami: AmiClient, sipp: SippRunner, agi_server: StartAgi
) -> None:
    async def hold(session: AgiSession) -> None:  # keep the citizen on the line
        await session.command("WAIT FOR DIGIT 12000")

    agi = await agi_server(hold)
    await bridge.actions.queue_add(queue=QUEUE, interface=AGENT, member_name="2103")
    citizen = await sipp.citizen(callers=[CALLER], steps=[Pause(10), Hangup()], max_seconds=30)
    await agi.wait_for_session(seconds=10)
    mark = len(ami.events)

    for attempt in (
        bridge.actions.queue_pause(interface=AGENT, queue=QUEUE, paused=True, reason=HANGUP_ALL),
        bridge.actions.queue_add(queue=QUEUE, interface="PJSIP/2104", member_name=HANGUP_ALL),
        bridge.actions.hangup(channel=HANGUP_ALL),
    ):
        with pytest.raises(AmiInvalidValue):
            await attempt
    await bridge.actions.queue_pause(interface=AGENT, queue=QUEUE, paused=True, reason="ناهار")
    paused = await ami.wait_for(
        lambda e: e.get("Event") == "QueueMemberPause" and e.get("Interface") == AGENT,
        seconds=5, start=mark,
    )
    assert paused["PausedReason"] == "ناهار"

    channels = await bridge.actions.core_show_channels()
    assert any(c.get("CallerIDNum") == CALLER for c in channels), channels
    assert ami.named("Hangup", start=mark) == []
    assert len(ami.named("QueueMemberPause", start=mark)) == 1
    assert (await citizen.wait()).ok  # the citizen hung up himself, after 10 s
    await bridge.actions.queue_remove(queue=QUEUE, interface=AGENT)


async def test_the_restricted_grant_runs_every_product_action(
    bridge: AmiBridge, ami: AmiClient
) -> None:
    """Each action the product sends is allowed; what it never sends is refused."""
    actions = bridge.actions
    await actions.queue_add(queue=QUEUE, interface=AGENT, member_name="2103",
                            state_interface=AGENT)
    await actions.queue_pause(interface=AGENT, queue=QUEUE, paused=True, reason="break")
    await actions.queue_pause(interface=AGENT, queue=QUEUE, paused=False)
    status = await actions.queue_status(queue=QUEUE)
    assert any(e.get("Location") == AGENT for e in status)
    await actions.core_show_channels()
    await actions.queue_remove(queue=QUEUE, interface=AGENT)
    # No such channel: Asterisk ran the action (it would answer "Permission denied").
    for refused in (actions.hangup(channel="PJSIP/2109-00000000"),
                    actions.redirect(channel="PJSIP/2109-00000000", context="outbound",
                                     exten="survey")):
        with pytest.raises(AmiActionFailed) as failed:
            await refused
        assert failed.value.details["answer"] != "Permission denied"
    # 2110 is not registered: Asterisk accepts the Originate, then reports the failure in
    # an OriginateResponse event (read class "call") - a timeout here would mean no read.
    with pytest.raises(OriginateFailed) as failed_call:
        await actions.originate(channel="PJSIP/2110", context="outbound", exten="callback",
                                variables={"CITIZEN": "09135550000"}, ring_seconds=3)
    assert failed_call.value.details["answer"] != "Permission denied"
    # What the bridge never needs stays out of reach (write = all allowed both).
    for name, fields in (("Command", {"Command": "core show version"}),
                         ("ModuleCheck", {"Module": "app_queue"})):
        reply = await ami.action(name, **fields)
        assert (reply["Response"], reply.get("Message")) == ("Error", "Permission denied"), name
