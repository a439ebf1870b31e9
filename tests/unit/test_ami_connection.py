"""The AMI connection against a scripted fake AMI server on a local TCP socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from panoramisk.ami_protocol import AMIProtocol
from support.fake_ami import FakeAmi, block, wait_for

from callcenter.ami.actions import AmiActions
from callcenter.ami.backoff import Backoff
from callcenter.ami.bridge import AmiBridge
from callcenter.ami.connection import BridgeManager, ConnectionState
from callcenter.ami.exceptions import AmiDisconnected, AmiNotConnected, OriginateFailed
from callcenter.ami.protocol import BridgeAMIProtocol

PERSIAN = "محمد رضایی"


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = FakeAmi()
    fake.server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    yield fake
    fake.drop_all()
    fake.server.close()
    await fake.server.wait_closed()


@pytest.fixture
async def manager(fake_ami: FakeAmi) -> AsyncIterator[BridgeManager]:
    mgr = BridgeManager(
        port=fake_ami.port,
        username="bridge",
        secret="s",
        backoff=Backoff(base=0.05, cap=0.2),
    )
    mgr.start()
    await wait_for(lambda: mgr.is_ready)
    yield mgr
    await mgr.stop()


async def test_persian_text_split_inside_a_character_survives(
    fake_ami: FakeAmi, manager: BridgeManager
) -> None:
    seen: list[Any] = []
    manager.register_event("UserEvent", lambda _m, event: seen.append(event))
    payload = block(Event="UserEvent", UserEvent="IvrChoice", CallerIDName=PERSIAN)
    cut = payload.index(PERSIAN.encode()) + 1  # inside the first 2-byte letter
    writer = fake_ami.writers[0]
    writer.write(payload[:cut])
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(payload[cut:])
    await writer.drain()
    await wait_for(lambda: bool(seen))
    assert seen[0]["CallerIDName"] == PERSIAN


def test_plain_panoramisk_loses_a_split_character_and_ours_does_not() -> None:
    payload = block(Event="Newchannel", CallerIDName=PERSIAN)
    cut = payload.index(PERSIAN.encode()) + 1
    names = {}
    for cls in (AMIProtocol, BridgeAMIProtocol):
        received: list[Any] = []
        proto = cls()
        proto.connection_made(MagicMock())
        proto.encoding = "utf8"
        proto.factory = MagicMock(dispatch=received.append)
        proto.data_received(payload[:cut])
        proto.data_received(payload[cut:])
        names[cls] = received[0]["CallerIDName"]
    assert names[AMIProtocol] != PERSIAN
    assert names[BridgeAMIProtocol] == PERSIAN


async def test_queue_add_returns(fake_ami: FakeAmi, manager: BridgeManager) -> None:
    async def added(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        writer.write(
            block(
                Response="Success", ActionID=action["ActionID"], Message="Added interface to queue"
            )
        )

    fake_ami.replies["QueueAdd"] = added
    actions = AmiActions(manager=manager, timeout=2.0)
    response = await actions.queue_add(queue="citizen-requests", interface="PJSIP/2101")
    assert response["Message"] == "Added interface to queue"
    assert fake_ami.sent("QueueAdd")[0]["Interface"] == "PJSIP/2101"


@pytest.mark.parametrize("queued_first", [False, True])
async def test_originate_pending_at_disconnect_fails_and_is_never_resent(
    fake_ami: FakeAmi, manager: BridgeManager, queued_first: bool
) -> None:
    async def originate(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        if queued_first:
            writer.write(
                block(
                    Response="Success",
                    ActionID=action["ActionID"],
                    Message="Originate successfully queued",
                )
            )
            await writer.drain()
        fake_ami.drop_all()  # the PBX goes away before the OriginateResponse

    fake_ami.replies["Originate"] = originate
    actions = AmiActions(manager=manager, timeout=2.0)
    # Without the fix the future is either re-sent or left pending: fail fast, not in 60 s.
    async with asyncio.timeout(5):
        with pytest.raises(AmiDisconnected):
            await actions.originate(channel="PJSIP/2101", context="survey", exten="s")
    await wait_for(lambda: fake_ami.logins == 2 and manager.is_ready)
    await asyncio.sleep(0.1)  # give a buggy re-send the chance to happen
    assert len(fake_ami.sent("Originate")) == 1
    assert not manager.awaiting_actions
    assert manager.send_awaiting_actions not in manager.callbacks["FullyBooted"]


async def test_originate_follows_the_response_to_its_end(
    fake_ami: FakeAmi, manager: BridgeManager
) -> None:
    async def originate(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        writer.write(
            block(
                Response="Success",
                ActionID=action["ActionID"],
                Message="Originate successfully queued",
            )
        )
        writer.write(
            block(
                Event="OriginateResponse",
                ActionID=action["ActionID"],
                Response="Failure",
                Channel="PJSIP/2101",
                Reason="5",
                Uniqueid="<null>",
            )
        )

    fake_ami.replies["Originate"] = originate
    actions = AmiActions(manager=manager, timeout=2.0)
    with pytest.raises(OriginateFailed) as failed:
        await actions.originate(channel="PJSIP/2101", context="survey", exten="s")
    assert failed.value.details["reason"] == "5"
    ids = [a["ActionID"] for a in fake_ami.sent("Originate")]
    assert ids[0].startswith("originate-")


async def test_actions_refuse_when_not_connected() -> None:
    mgr = BridgeManager(port=1, username="bridge", secret="s")
    with pytest.raises(AmiNotConnected):
        await AmiActions(manager=mgr).hangup(channel="PJSIP/2101-1")


async def test_reconnects_with_growing_capped_delays_and_reports_health() -> None:
    # Bind then close a socket: its port now refuses connections.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    mgr = BridgeManager(port=port, username="b", secret="s", backoff=Backoff(base=0.01, cap=0.04))
    mgr.start()
    await wait_for(lambda: mgr.backoff.attempts >= 4)
    health = mgr.health()
    assert health["state"] == ConnectionState.RETRYING
    assert health["attempts"] >= 4
    assert "ConnectionRefusedError" in (health["last_error"] or "")
    await mgr.stop()
    assert mgr.health()["state"] == ConnectionState.DISCONNECTED


async def test_reconnect_after_drop_logs_in_again_and_resets_backoff(
    fake_ami: FakeAmi, manager: BridgeManager
) -> None:
    fake_ami.drop_all()
    await wait_for(lambda: fake_ami.logins == 2 and manager.is_ready)
    assert manager.backoff.attempts == 0
    fake_ami.writers[0].write(block(Event="FullyBooted", Status="Fully Booted"))
    await wait_for(lambda: manager.health()["last_event_age_seconds"] is not None)


async def test_connection_lost_before_it_was_adopted_is_retried() -> None:
    """The server closed the socket before the connect callback ran: no exception in
    the protocol, and the manager retries instead of adopting a dead transport."""
    mgr = BridgeManager(port=1, username="b", secret="s", backoff=Backoff(base=5, cap=5))
    mgr.start()
    protocol = BridgeAMIProtocol()
    protocol.connection_made(MagicMock())
    protocol.connection_lost(None)  # plain AMIProtocol: AttributeError on factory None
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    done.set_result((protocol.transport, protocol))
    mgr.connection_made(done)
    assert mgr.state is ConnectionState.RETRYING and mgr.protocol is not protocol
    assert "at once" in (mgr.last_error or "")
    await mgr.stop()


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(base=0.5, factor=2, cap=4)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    backoff.reset()
    assert backoff.next_delay() == 0.5
    jittered = Backoff(base=1, cap=8, jitter=0.5, rand=lambda: 1.0)
    assert jittered.next_delay() == 0.5
    with pytest.raises(ValueError):
        Backoff(base=2, cap=1)


async def test_bridge_resyncs_on_login_and_routes_events_through_the_table(
    fake_ami: FakeAmi,
) -> None:
    async def queue_status(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        aid = action["ActionID"]
        writer.write(
            block(
                Response="Success",
                ActionID=aid,
                EventList="start",
                Message="Queue status will follow",
            )
        )
        writer.write(
            block(
                Event="QueueParams",
                ActionID=aid,
                Queue="citizen-requests",
                Completed="2",
                Abandoned="1",
            )
        )
        writer.write(
            block(
                Event="QueueMember",
                ActionID=aid,
                Queue="citizen-requests",
                Name="2101",
                Location="PJSIP/2101",
                StateInterface="PJSIP/2101",
                Status="1",
                Paused="1",
                PausedReason="ناهار",
            )
        )
        writer.write(block(Event="QueueStatusComplete", ActionID=aid, EventList="Complete"))

    async def channels(action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        aid = action["ActionID"]
        writer.write(
            block(
                Response="Success", ActionID=aid, EventList="start", Message="Channels will follow"
            )
        )
        writer.write(
            block(
                Event="CoreShowChannelsComplete", ActionID=aid, EventList="Complete", ListItems="0"
            )
        )

    fake_ami.replies["QueueStatus"] = queue_status
    fake_ami.replies["CoreShowChannels"] = channels
    seen: list[Any] = []
    bridge = AmiBridge(
        host="127.0.0.1",
        port=fake_ami.port,
        username="bridge",
        secret="s",
        on_call_event=seen.append,
        resync_interval=0.2,
    )
    bridge.start()
    try:
        await wait_for(lambda: bridge.resyncs == 1)
        member = bridge.queue_state.snapshot()["citizen-requests"]["members"][0]
        assert (member["interface"], member["paused_reason"]) == ("PJSIP/2101", "ناهار")
        chan = {
            "Channel": "PJSIP/citizen-00000001",
            "Uniqueid": "9.1",
            "Linkedid": "9.1",
            "CallerIDNum": "09131234567",
            "CallerIDName": PERSIAN,
        }
        fake_ami.writers[0].write(block(Event="Newchannel", **chan))
        fake_ami.writers[0].write(block(Event="Hangup", **chan))
        await wait_for(lambda: len(seen) == 2)
        assert seen[0].caller_name == PERSIAN
        assert seen[1].outcome == "ivr_only"
        health = bridge.health()
        assert health["state"] == "connected" and health["active_calls"] == 0
        await wait_for(lambda: bridge.resyncs >= 2)  # the periodic sweep
    finally:
        await bridge.stop()
