"""The bridge's AMI actions against the real sandbox Asterisk 22 (queue citizen-requests).

QueueAdd is the action plain panoramisk 1.4 never returns from; here it must return,
and the queue state the bridge keeps must follow what Asterisk reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from ami_client import AmiClient
from pbx_sandbox import QUEUE, SandboxPbx

from callcenter.ami.bridge import AmiBridge
from callcenter.ami.exceptions import AmiActionFailed

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
