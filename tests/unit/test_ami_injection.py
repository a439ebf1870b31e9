"""AMI command injection: every value is checked where actions are written.

What was tried (issue 12, High 1): a break reason ``x\r\n\r\nAction: Hangup\r\nChannel:
/.*/`` became a second action that hung up every call. Each injection below goes through
the real ``AmiActions`` -> ``BridgeManager`` -> ``BridgeAMIProtocol`` into a fake AMI
server that records every action as it arrives on the wire. Before the fix the server
saw two actions (the QueuePause and the Hangup); now it sees none for a refused value,
the caller gets ``AmiInvalidValue``, and the next honest action still goes through on
the same connection (exactly one action recorded).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from support.fake_ami import FakeAmi, block, start_fake_ami, stop_fake_ami, wait_for

from callcenter.ami.actions import AmiActions
from callcenter.ami.backoff import Backoff
from callcenter.ami.connection import BridgeManager
from callcenter.ami.exceptions import AmiInvalidValue
from callcenter.ami.validation import MAX_LINE_BYTES, check_action

HANGUP_ALL = "x\r\n\r\nAction: Hangup\r\nChannel: /.*/"
INJECTIONS = {
    "crlf-second-action": HANGUP_ALL,
    "lf-only": "x\nAction: Hangup\nChannel: /.*/",
    "cr-only": "x\rAction: Hangup",
    "extra-header": "lunch\r\nQueue: other-queue",
    "nul": "lunch\x00Action: Hangup",
    "too-long": "a" * MAX_LINE_BYTES,
}

Call = Callable[[AmiActions, str], Awaitable[Any]]
CALLS: dict[str, Call] = {
    "break reason": lambda a, v: a.queue_pause(interface="PJSIP/2101", paused=True, reason=v),
    "member name": lambda a, v: a.queue_add(queue="q", interface="PJSIP/2101", member_name=v),
    "interface": lambda a, v: a.queue_remove(queue="q", interface=v),
    "hangup channel": lambda a, v: a.hangup(channel=v),
    "redirect exten": lambda a, v: a.redirect(channel="PJSIP/1-1", context="c", exten=v),
    "caller id": lambda a, v: a.originate(channel="PJSIP/2101", context="c", exten="s",
                                          caller_id=v),
    "variable value": lambda a, v: a.originate(channel="PJSIP/2101", context="c", exten="s",
                                               variables={"TRACKING": v}),
    "variable name": lambda a, v: a.originate(channel="PJSIP/2101", context="c", exten="s",
                                              variables={v: "1"}),
    "queue status": lambda a, v: a.queue_status(queue=v),
}


async def success(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
    writer.write(block(Response="Success", ActionID=action["ActionID"], Message="ok"))


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = await start_fake_ami()
    fake.replies["QueuePause"] = success
    yield fake
    await stop_fake_ami(fake)


@pytest.fixture
async def actions(fake_ami: FakeAmi) -> AsyncIterator[AmiActions]:
    mgr = BridgeManager(port=fake_ami.port, username="bridge", secret="s",
                        backoff=Backoff(base=0.05, cap=0.2))
    mgr.start()
    await wait_for(lambda: mgr.is_ready)
    yield AmiActions(manager=mgr, timeout=2.0)
    await mgr.stop()


@pytest.mark.parametrize("injection", INJECTIONS.values(), ids=INJECTIONS.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_each_injection_is_refused_and_nothing_reaches_the_peer(
    fake_ami: FakeAmi, actions: AmiActions, call: Call, injection: str
) -> None:
    with pytest.raises(AmiInvalidValue) as refused:
        await call(actions, injection)
    assert refused.value.error_id == "ami-invalid-value"
    assert injection not in str(refused.value)  # the message never echoes the payload
    # The connection is kept: an honest action afterwards is the one action recorded.
    await actions.queue_pause(interface="PJSIP/2101", paused=True, reason="ناهار")
    await wait_for(lambda: len(fake_ami.actions) >= 2)  # Login + QueuePause
    assert [a["Action"] for a in fake_ami.actions] == ["Login", "QueuePause"]
    assert fake_ami.sent("Hangup") == []


async def test_text_that_only_looks_like_a_header_is_one_action(
    fake_ami: FakeAmi, actions: AmiActions
) -> None:
    """Colons, 'Action:' and Persian inside one line are data, not structure."""
    reason = "ناهار: Action: Hangup Channel: /.*/"
    await actions.queue_pause(interface="PJSIP/2101", paused=True, reason=reason)
    (sent,) = fake_ami.sent("QueuePause")
    assert sent["Reason"] == reason
    assert [a["Action"] for a in fake_ami.actions] == ["Login", "QueuePause"]


async def test_raw_send_action_is_checked_too(fake_ami: FakeAmi, actions: AmiActions) -> None:
    """Whatever the caller: panoramisk's own send_action goes through the same check."""
    manager = actions._manager
    for action in (
        {"Action": "QueuePause", "Interface": "PJSIP/2101", "Reason": HANGUP_ALL},
        {"Action": "QueuePause", "Reason\r\nAction": "Hangup"},  # injection in a key
        {"Action": "Originate", "Variable": ["A=1", "B=2\r\nAction: Hangup"]},
        {"Action": "QueuePause", "Reason": 7},  # not text at all
    ):
        with pytest.raises(AmiInvalidValue):
            manager.send_action(action)
    await asyncio.sleep(0.05)
    assert [a["Action"] for a in fake_ami.actions] == ["Login"]


def test_check_action_limits() -> None:
    check_action({"Action": "Ping", "Variable": ["A=" + "x" * 900]})
    with pytest.raises(AmiInvalidValue, match="headers"):
        check_action({"Action": "Originate", "Variable": [f"V{i}=1" for i in range(200)]})
    with pytest.raises(AmiInvalidValue):
        BridgeManager(username="bridge", secret="s\r\nAction: Hangup")
