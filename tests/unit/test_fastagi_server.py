"""The FastAGI server against raw sockets: a well-behaved Asterisk and hostile peers.

Each hostile peer must end its session (no spinning, no leak): the server's
active session count returns to 0 and the next call is still served.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from callcenter.agi.server import FastAgiServer
from ivr_flows.channel import Channel, ChannelError, ChannelHangup

UID = "1700000000.7"


def headers(script: str = "probe", **extra: str) -> bytes:
    """What Asterisk sends first for ``AGI(agi://127.0.0.1:port/<script>)``."""
    env = {
        "agi_network": "yes",
        "agi_network_script": f"{script}?x=1",
        "agi_request": f"agi://127.0.0.1/{script}?x=1",
        "agi_channel": "PJSIP/citizen-00000002",
        "agi_language": "fa",
        "agi_uniqueid": UID,
        "agi_callerid": "09131234567",
        "agi_calleridname": "unknown",
        "agi_arg_1": "one",
        **extra,
    }
    return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"


class Peer:
    """A scripted Asterisk on a raw socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Peer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def command(self, within: float = 5.0) -> str:
        """The next command line from the server ("" at EOF)."""
        async with asyncio.timeout(within):
            return (await self.reader.readline()).decode().rstrip("\n")

    async def answer(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\n" for line in lines).encode())
        await self.writer.drain()

    async def expect_eof(self, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            assert await self.reader.read() == b""

    def close(self) -> None:
        self.writer.close()


class Recorder:
    """Handlers that remember what they got, keyed by script name."""

    def __init__(self) -> None:
        self.results: list[Any] = []
        self.errors: list[BaseException] = []
        self.channels: list[Channel] = []

    async def probe(self, channel: Channel) -> None:
        """Every Channel method once, in a fixed order."""
        self.channels.append(channel)
        try:
            await channel.answer()
            self.results.append(await channel.play("fa/welcome", interrupt="19"))
            self.results.append(await channel.read_digits("fa/menu", max_digits=4, timeout=5))
            self.results.append(await channel.read_digits("fa/menu", max_digits=4, timeout=5))
            self.results.append(await channel.record("/tmp/rec", max_seconds=120))
            await channel.say_digits("1234")
            await channel.set_variable("IVR_CHOICE", "1")
            self.results.append(await channel.get_variable("CASE"))
        except (ChannelHangup, ChannelError) as exc:
            self.errors.append(exc)
            raise

    async def loop(self, channel: Channel) -> None:
        """Reads digits until the caller or the deadline stops it."""
        while True:
            await channel.read_digits("fa/menu", max_digits=1, timeout=1)

    async def boom(self, channel: Channel) -> None:
        await channel.answer()
        raise RuntimeError("flow bug")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


ServerFactory = Callable[..., Any]
Connect = Callable[[int], Any]


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Opens peers and closes every one of them after the test."""
    opened: list[Peer] = []

    async def open_peer(port: int) -> Peer:
        peer = await Peer.connect(port)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        peer.writer.close()
        try:
            await peer.writer.wait_closed()
        except ConnectionError:
            pass


@pytest.fixture
def make_server(recorder: Recorder) -> Callable[..., Any]:
    @asynccontextmanager
    async def factory(**options: Any) -> AsyncIterator[FastAgiServer]:
        routes = {"probe": recorder.probe, "loop": recorder.loop, "boom": recorder.boom}
        settings: dict[str, Any] = {
            "port": 0, "header_timeout": 0.5, "command_timeout": 0.5, "session_deadline": 10,
        }
        settings.update(options)
        server = FastAgiServer(routes, **settings)
        async with server:
            yield server

    return factory


async def settled(server: FastAgiServer, *, sessions: int = 1, within: float = 5.0) -> None:
    """Wait until ``sessions`` sessions were accepted and none is active any more
    (fails the test if that never happens: a stuck session)."""
    async with asyncio.timeout(within):
        while True:
            state = server.state()
            if state.sessions_total >= sessions and state.active_sessions == 0:
                return
            await asyncio.sleep(0.01)


async def serve_probe_call(peer: Peer) -> list[str]:
    """Answer the probe handler like a live Asterisk; returns the commands seen."""
    peer.send(headers("probe"))
    answers = [
        "200 result=0",                       # ANSWER
        "200 result=49 endpos=1200",          # STREAM FILE interrupted by '1'
        "200 result=12 (timeout)",            # GET DATA: partial input then timeout
        "200 result= (timeout)",              # GET DATA: nothing
        "200 result=35 (dtmf) endpos=16000",  # RECORD FILE ended by '#'
        "200 result=0",                       # SAY DIGITS
        "200 result=1",                       # SET VARIABLE
        "200 result=1 (case (7))",            # GET VARIABLE
    ]
    seen = []
    for answer in answers:
        seen.append(await peer.command())
        await peer.answer(answer)
    return seen


async def test_a_call_is_routed_and_every_command_translated(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        seen = await serve_probe_call(peer)
        await peer.expect_eof()  # a flow that returns hands the call back to the dialplan
        await settled(server)
        assert server.state().outcomes["completed"] == 1
    assert seen == [
        "ANSWER",
        'STREAM FILE "fa/welcome" "19"',
        'GET DATA "fa/menu" 5000 4',
        'GET DATA "fa/menu" 5000 4',
        'RECORD FILE "/tmp/rec" "wav" "#" 120000 0 BEEP',
        'SAY DIGITS 1234 ""',
        'SET VARIABLE "IVR_CHOICE" "1"',
        'GET VARIABLE "CASE"',
    ]
    record = recorder.results[3]
    assert recorder.results[:3] == ["1", "12", None]
    assert (record.digit, record.reason) == ("#", "dtmf")
    assert recorder.results[4] == "case (7)"
    channel = recorder.channels[0]
    assert (channel.uniqueid, channel.script, channel.caller, channel.language) == (
        UID, "probe", "09131234567", "fa",
    )
    assert list(channel.arguments) == ["one"]


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param(b"", id="connect-and-close"),
        pytest.param(b"agi_network: yes\nagi_network_script: probe\n", id="close-before-blank"),
        pytest.param(b"agi_network: yes\nagi_uniq", id="close-mid-line"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="http-garbage"),
        pytest.param(bytes(range(256)) * 4 + b"\n\n", id="binary-garbage"),
        pytest.param(b"\n", id="blank-first"),
        pytest.param(b"agi_network_script: " + b"a" * 100_000 + b"\n\n", id="oversized-line"),
        pytest.param(b"x" * 200_000, id="oversized-no-newline"),
        pytest.param(b"".join(b"agi_x%d: y\n" % i for i in range(1000)) + b"\n",
                     id="too-many-headers"),
    ],
)
async def test_hostile_peers_before_the_headers_end_their_session(
    make_server: ServerFactory, connect: Connect, recorder: Recorder, hostile: bytes
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(hostile)
        try:
            await peer.writer.drain()
        except ConnectionError:
            pass  # the server may already have cut an oversized peer off
        peer.writer.write_eof()
        await settled(server)
        assert server.state().outcomes["rejected"] == 1
        assert recorder.channels == []
        # and the server still serves the next call
        good = await connect(server.port)
        await serve_probe_call(good)
        await settled(server, sessions=2)
        assert server.state().outcomes["completed"] == 1


async def test_oversized_header_is_cut_off_without_waiting_for_the_peer(
    make_server: ServerFactory, connect: Connect,
) -> None:
    async with make_server(header_timeout=30) as server:
        peer = await connect(server.port)
        peer.send(b"agi_network_script: " + b"a" * 100_000)  # no newline, peer stays open
        await peer.expect_eof(within=5)
        await settled(server)
        assert server.state().outcomes["rejected"] == 1


async def test_peer_silent_before_headers_hits_the_header_timeout(
    make_server: ServerFactory, connect: Connect,
) -> None:
    async with make_server(header_timeout=0.3) as server:
        peer = await connect(server.port)
        peer.send(b"agi_network: yes\n")
        cpu_before = time.process_time()
        await peer.expect_eof(within=3)
        cpu_used = time.process_time() - cpu_before
        await settled(server)
        assert server.state().outcomes["rejected"] == 1
    assert cpu_used < 0.2, f"the server burnt {cpu_used:.2f} s CPU on an idle peer"


@pytest.mark.parametrize(
    "hangup_answer",
    [
        pytest.param(["HANGUP"], id="HANGUP-line"),
        pytest.param(["511 Command Not Permitted on a dead channel or intercept routine"],
                     id="511"),
        pytest.param(["200 result=-1"], id="result-minus-one"),
    ],
)
async def test_caller_hanging_up_mid_command(
    make_server: ServerFactory, connect: Connect, recorder: Recorder, hangup_answer: list[str]
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("probe"))
        assert await peer.command() == "ANSWER"
        await peer.answer(*hangup_answer)
        await peer.expect_eof()  # the caller is gone: the session just closes
        await settled(server)
        assert server.state().outcomes["hangup"] == 1
    assert len(recorder.errors) == 1
    assert isinstance(recorder.errors[0], ChannelHangup)


async def test_hangup_during_recording_keeps_the_recording(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("probe"))
        for answer in ("200 result=0", "200 result=0 endpos=9", "200 result=1",
                       "200 result=2"):
            await peer.command()
            await peer.answer(answer)
        assert (await peer.command()).startswith("RECORD FILE")
        await peer.answer("HANGUP")
        await peer.expect_eof()
        await settled(server)
        assert server.state().outcomes["hangup"] == 1
    assert recorder.results[3].reason == "hangup"
    assert isinstance(recorder.errors[0], ChannelHangup)  # from the next command


async def test_socket_closed_mid_command(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("probe"))
        assert await peer.command() == "ANSWER"
        await peer.answer("200 result=0")
        assert (await peer.command()).startswith("STREAM FILE")
        peer.close()
        await settled(server)
        assert server.state().outcomes["hangup"] == 1
    assert isinstance(recorder.errors[0], ChannelHangup)


async def test_half_open_peer_hits_the_command_timeout_and_frees_the_session(
    make_server: ServerFactory, connect: Connect, recorder: Recorder
) -> None:
    async with make_server(command_timeout=0.3) as server:
        peer = await connect(server.port)
        peer.send(headers("probe"))
        assert await peer.command() == "ANSWER"
        cpu_before = time.process_time()
        # never answer: the server gives up, tries a HANGUP, and closes
        assert await peer.command() == "HANGUP"
        await peer.expect_eof(within=5)
        cpu_used = time.process_time() - cpu_before
        await settled(server)
        state = server.state()
        assert state.outcomes["timeout"] == 1
        assert state.active_sessions == 0
    assert cpu_used < 0.2, f"the server burnt {cpu_used:.2f} s CPU on a silent peer"


async def test_session_deadline_hangs_up(make_server: ServerFactory, connect: Connect) -> None:
    async with make_server(session_deadline=0.5) as server:
        peer = await connect(server.port)
        peer.send(headers("loop"))
        started = time.monotonic()
        line = await peer.command()
        while line != "HANGUP":
            assert line.startswith("GET DATA")
            try:
                # Like a caller's 0.2 s of silence; the deadline may cut in meanwhile.
                line = await peer.command(within=0.2)
            except TimeoutError:
                await peer.answer("200 result= (timeout)")
                line = await peer.command()
        assert 0.4 < time.monotonic() - started < 3
        # cut off mid-command, the server does not wait for the HANGUP answer
        await peer.expect_eof()
        await settled(server)
        assert server.state().outcomes["deadline"] == 1


async def test_unknown_script_is_logged_and_hung_up(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="callcenter.agi")
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("nosuchflow"))
        assert await peer.command() == "HANGUP"
        await peer.answer("200 result=1")
        await peer.expect_eof()
        await settled(server)
        assert server.state().outcomes["rejected"] == 1
    assert any("nosuchflow" in r.getMessage() and UID in r.getMessage() for r in caplog.records)


async def test_failing_handler_is_logged_with_uniqueid_and_hung_up(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("boom"))
        assert await peer.command() == "ANSWER"
        await peer.answer("200 result=0")
        assert await peer.command() == "HANGUP"
        await peer.answer("200 result=1")
        await peer.expect_eof()
        await settled(server)
        assert server.state().outcomes["failed"] == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and UID in errors[0].getMessage()
    assert errors[0].exc_info is not None


@pytest.mark.parametrize(
    "refusal",
    [
        ["510 Invalid or unknown command"],
        ["520-Invalid command syntax.  Proper usage follows:", " Usage: ANSWER",
         "520 End of proper usage."],
    ],
    ids=["510", "520-multiline"],
)
async def test_refused_command_is_a_channel_error_naming_the_command(
    make_server: ServerFactory, connect: Connect, recorder: Recorder, refusal: list[str]
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("probe"))
        assert await peer.command() == "ANSWER"
        await peer.answer(*refusal)
        assert await peer.command() == "HANGUP"
        await peer.answer("200 result=1")
        await settled(server)
        assert server.state().outcomes["failed"] == 1
    assert isinstance(recorder.errors[0], ChannelError)
    assert "ANSWER" in str(recorder.errors[0])


async def test_garbage_answer_mid_call_fails_the_session(
    make_server: ServerFactory, connect: Connect
) -> None:
    async with make_server() as server:
        peer = await connect(server.port)
        peer.send(headers("probe"))
        assert await peer.command() == "ANSWER"
        await peer.answer("lorem ipsum")
        assert await peer.command() == "HANGUP"
        await peer.answer("200 result=1")
        await settled(server)
        assert server.state().outcomes["failed"] == 1


async def test_no_phone_number_is_logged_at_info(
    make_server: ServerFactory, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with make_server() as server:
        await serve_probe_call(await connect(server.port))
        await settled(server)
    assert caplog.records
    assert not any("09131234567" in r.getMessage() for r in caplog.records)


async def test_stop_cancels_running_sessions_and_reports_state(
    make_server: ServerFactory, connect: Connect,
) -> None:
    async with make_server(command_timeout=60) as server:
        assert server.state().listening
        peer = await connect(server.port)
        peer.send(headers("probe"))
        assert await peer.command() == "ANSWER"
        assert server.state().active_sessions == 1
        stopping = asyncio.create_task(server.stop(grace=0.1))
        assert await peer.command() == "HANGUP"
        await peer.answer("200 result=1")
        await asyncio.wait_for(stopping, 5)
        state = server.state()
        assert (state.listening, state.active_sessions, state.sessions_total) == (False, 0, 1)
