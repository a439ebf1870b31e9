"""Fuzzing the FastAGI boundary, a bounded number of inputs per run (scripts/test).

Whatever Asterisk (or anything on port 4573) sends - headers, answers, garbage, huge
numbers, early EOF - and whatever values a flow passes (line breaks, letters to SAY
DIGITS), a session ends with a named outcome and never a crash (no ``log.exception``),
every command written is exactly one line, and the server's books balance.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.agi.channel import AgiChannel, StreamTransport
from callcenter.agi.protocol import (
    AgiEnvironment,
    AgiProtocolError,
    parse_environment_line,
    parse_response_line,
    read_response,
)
from callcenter.agi.server import FastAgiServer
from callcenter.agi.session import SessionOutcome, run_handler
from ivr_flows.channel import Channel, ChannelHangup

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
NUMBER = st.integers(-3, 300).map(str) | st.sampled_from(["", "9" * 5000, "-", "1e9", "٣"])
ANSWER = st.one_of(
    st.builds(lambda code, result, data, endpos: f"{code} result={result}{data}{endpos}",
              st.sampled_from(["200", "510", "511", "520", "999"]), NUMBER,
              st.sampled_from(["", " (timeout)", " (dtmf)", " (hangup)", " (a (b) c)"]),
              st.sampled_from(["", " endpos=0", " endpos=-1", " endpos=" + "7" * 5000])),
    st.sampled_from(["HANGUP", "520-Invalid command syntax", "520 End of proper usage.", ""]),
    st.text(max_size=40).map(lambda t: t.replace("\n", " ")),
)
VALUE = st.text(alphabet=st.sampled_from([*"0123456789-*# a\r\n\x00", "۱"]), max_size=12)


class Wire:
    """The writer side of a StreamTransport: records what the bridge wrote."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    async def drain(self) -> None:
        return None


async def flow_on(channel: Channel, value: str) -> None:
    """Every channel method, with a fuzzed value where a flow puts its data."""
    await channel.answer()
    await channel.play("welcome", interrupt="0123456789")
    await channel.read_digits("menu", max_digits=4, timeout=0.01)
    await channel.say_digits(value)
    await channel.set_variable("IVR_NOTE", value)
    await channel.record("/tmp/fuzz", max_seconds=1)
    await channel.get_variable("X")


async def one_session(answers: list[str], value: str) -> tuple[SessionOutcome, Wire]:
    reader = asyncio.StreamReader(limit=16 * 1024)
    reader.feed_data("".join(f"{a}\n" for a in answers).encode("utf-8", "surrogatepass"))
    reader.feed_eof()
    wire = Wire()
    transport = StreamTransport(reader, wire, command_timeout=1)  # type: ignore[arg-type]
    channel = AgiChannel(AgiEnvironment({"agi_uniqueid": "1.1"}), transport)
    return await run_handler(channel, lambda c: flow_on(c, value), deadline=5), wire


@FUZZ
@given(answers=st.lists(ANSWER, max_size=10), value=VALUE)
def test_any_answers_any_values_end_in_an_outcome_never_a_crash(
    answers: list[str], value: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        outcome, wire = asyncio.run(one_session(answers, value))
    assert isinstance(outcome, SessionOutcome)
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    for line in wire.written:  # one command a write, one line a command
        assert line.endswith(b"\n") and line.count(b"\n") == 1 and b"\r" not in line


@FUZZ
@given(line=ANSWER | st.text(max_size=60))
def test_the_line_parsers_raise_only_their_own_errors(line: str) -> None:
    try:
        parse_response_line(line)
    except AgiProtocolError:
        pass
    try:
        parse_environment_line(line)
    except AgiProtocolError:
        pass

    lines = iter([line, line, "520 end"])

    async def readline() -> str:
        return next(lines)

    try:
        asyncio.run(read_response(readline))
    except (AgiProtocolError, ChannelHangup):
        pass


HEADER = st.one_of(
    st.sampled_from(["agi_network_script: fuzz", "agi_uniqueid: 1.2", "agi_callerid: 0913",
                     "agi_arg_1: x", "", "agi_: ", "nonsense"]),
    st.text(max_size=30).map(lambda t: t.replace("\n", " ")),
)


@settings(FUZZ, max_examples=40)
@given(headers=st.lists(HEADER, max_size=6), answers=st.lists(ANSWER, max_size=6),
       value=VALUE)
def test_the_server_over_a_real_socket_keeps_its_books(
    headers: list[str], answers: list[str], value: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> dict[str, int]:
        server = FastAgiServer({"fuzz": lambda c: flow_on(c, value)}, port=0,
                               header_timeout=1, command_timeout=1)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            script = ["agi_network_script: fuzz", *headers, "", *answers]
            writer.write("".join(f"{x}\n" for x in script).encode("utf-8", "surrogatepass"))
            await writer.drain()
            writer.write_eof()
            async with asyncio.timeout(10):
                await reader.read()  # until the server closes the session
                await server.wait_idle()
            writer.close()
            state = server.state()
        assert state.sessions_total == 1
        return dict(state.outcomes)

    caplog.clear()
    with caplog.at_level(logging.ERROR):
        outcomes = asyncio.run(scenario())
    assert sum(outcomes.values()) == 1
    assert not [r for r in caplog.records if r.exc_info], caplog.text
