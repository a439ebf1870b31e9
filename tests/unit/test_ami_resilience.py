"""The AMI connection against peers that misbehave: silent, or sending broken frames.

What was tried (issue 12, Medium 10 and Low):
- a peer that accepts TCP and never says a word: before the fix the bridge sat
  "connected" for good with no retry and ``/health`` ok; now the login has a total
  deadline, the connection is dropped and the backoff goes on (many connects, state
  ``retrying``, the reason in ``last_error``);
- a peer that logs in and then stops answering pings: dropped after ``read_timeout``;
- a frame with two ``Event:`` or two ``ActionID:`` headers: raised out of
  ``data_received`` and asyncio closed the connection; now the frame is dropped, logged
  without its values, and the next event on the same connection is still dispatched;
- an unfinished frame of 300 KB: buffered without limit before; now capped and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import MagicMock

import pytest
from support.fake_ami import FakeAmi, block, start_fake_ami, stop_fake_ami, wait_for

from callcenter.ami.backoff import Backoff
from callcenter.ami.connection import BridgeManager, ConnectionState
from callcenter.ami.protocol import MAX_FRAME_CHARS, BridgeAMIProtocol

PHONE = "09131234567"


class SilentPeer:
    """Accepts every connection and never writes a byte."""

    def __init__(self) -> None:
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        await reader.read()  # until the bridge gives up and closes


async def test_a_silent_peer_is_dropped_at_the_login_deadline_and_retried() -> None:
    peer = SilentPeer()
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    mgr = BridgeManager(port=port, username="bridge", secret="s", login_timeout=0.2,
                        backoff=Backoff(base=0.05, cap=0.1))
    mgr.start()
    try:
        await wait_for(lambda: peer.connections >= 3, seconds=5)
        health = mgr.health()
        assert not health["authenticated"]
        assert "no answer to the AMI login" in (health["last_error"] or "")
        assert health["attempts"] >= 2
        await wait_for(lambda: mgr.state is ConnectionState.RETRYING)
    finally:
        await mgr.stop()
        for writer in peer.writers:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    fake = await start_fake_ami()
    yield fake
    await stop_fake_ami(fake)


async def test_a_peer_that_stops_answering_after_login_is_dropped(
    fake_ami: FakeAmi, caplog: pytest.LogCaptureFixture
) -> None:
    async def mute(_action: dict[str, str], _writer: asyncio.StreamWriter) -> None:
        return None  # a hung Asterisk: the socket is up, nothing comes back

    fake_ami.replies["Ping"] = mute
    mgr = BridgeManager(port=fake_ami.port, username="bridge", secret="s", ping_delay=1,
                        read_timeout=0.4, backoff=Backoff(base=0.05, cap=0.1))
    mgr.start()
    try:
        with caplog.at_level(logging.ERROR):
            await wait_for(lambda: fake_ami.logins >= 2, seconds=5)  # dropped, back again
        assert "AMI silent for 0.4 s" in caplog.text
    finally:
        await mgr.stop()


@pytest.fixture
async def manager(fake_ami: FakeAmi) -> AsyncIterator[BridgeManager]:
    mgr = BridgeManager(port=fake_ami.port, username="bridge", secret="s",
                        backoff=Backoff(base=0.05, cap=0.2))
    mgr.start()
    await wait_for(lambda: mgr.is_ready)
    yield mgr
    await mgr.stop()


@pytest.mark.parametrize("repeated", ["Event", "ActionID"])
async def test_a_frame_with_a_repeated_routing_header_is_dropped_not_the_connection(
    fake_ami: FakeAmi, manager: BridgeManager, repeated: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Any] = []
    manager.register_event("UserEvent", lambda _m, event: seen.append(event))
    bad = (f"Event: Newchannel\r\n{repeated}: Hangup\r\nActionID: 1\r\n"
           f"CallerIDNum: {PHONE}\r\n\r\n").encode()
    writer = fake_ami.writers[0]
    with caplog.at_level(logging.INFO):
        writer.write(bad + block(Event="UserEvent", UserEvent="after"))
        await writer.drain()
        await wait_for(lambda: bool(seen))
    assert seen[0]["UserEvent"] == "after"
    assert fake_ami.logins == 1 and manager.is_ready  # the same connection
    assert manager.health()["frames_dropped"] == 1
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "repeated header" in logged and "CallerIDNum" in logged
    assert PHONE not in logged  # values (a citizen's number) are not logged at INFO


def protocol() -> tuple[BridgeAMIProtocol, list[Any]]:
    received: list[Any] = []
    proto = BridgeAMIProtocol()
    proto.connection_made(MagicMock())
    proto.factory = MagicMock(dispatch=received.append)
    return proto, received


def test_an_unfinished_frame_is_capped_skipped_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    proto, received = protocol()
    chunk = ("Event: Newchannel\r\n" + f"X: {PHONE}" * 400 + "\r\n").encode()
    with caplog.at_level(logging.INFO):
        for _ in range(60):  # ~300 KB, never a blank line
            proto.data_received(chunk)
            assert proto._buffered <= MAX_FRAME_CHARS
        proto.data_received(b"more of the same\r\n\r\n" + block(Event="UserEvent", N="1"))
    assert [m["Event"] for m in received] == ["UserEvent"]
    assert proto.frames_dropped == 1
    assert PHONE not in " ".join(r.getMessage() for r in caplog.records)


def test_a_separator_split_across_reads_still_ends_the_frame() -> None:
    proto, received = protocol()
    payload = block(Event="UserEvent", N="1") + block(Event="UserEvent", N="2")
    for i in range(len(payload)):  # one byte per read: every possible split
        proto.data_received(payload[i:i + 1])
    assert [m["N"] for m in received] == ["1", "2"]
