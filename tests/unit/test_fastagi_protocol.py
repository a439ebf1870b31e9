"""The AGI wire format: response lines, 520 usage blocks, HANGUP, environment, quoting."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from callcenter.agi.protocol import (
    AgiEnvironment,
    AgiProtocolError,
    parse_environment_line,
    parse_response_line,
    quote,
    read_response,
)
from ivr_flows.channel import ChannelHangup


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "endpos"),
    [
        ("200 result=1", 200, "1", None, None),
        ("200 result=0 endpos=12345", 200, "0", None, 12345),
        ("200 result=49 endpos=800", 200, "49", None, 800),
        ("200 result= (timeout)", 200, "", "timeout", None),
        ("200 result=12 (timeout)", 200, "12", "timeout", None),
        ("200 result=35 (dtmf) endpos=16000", 200, "35", "dtmf", 16000),
        ("200 result=-1 (hangup) endpos=0", 200, "-1", "hangup", 0),
        ("200 result=1 (a (nested) value) endpos=3", 200, "1", "a (nested) value", 3),
        ("200 result=1 (سلام)", 200, "1", "سلام", None),
        ("510 Invalid or unknown command", 510, "", None, None),
        ("511 Command Not Permitted on a dead channel or intercept routine", 511, "", None, None),
    ],
)
def test_response_lines_parse(
    line: str, code: int, result: str, data: str | None, endpos: int | None
) -> None:
    response = parse_response_line(line)
    assert (response.code, response.result, response.data, response.endpos) == (
        code, result, data, endpos,
    )
    assert response.text == line


@pytest.mark.parametrize(
    "line", ["", "hello", "20 result=1", "200", "200result=1", "GET / HTTP/1.1", "\x00\x01"]
)
def test_garbage_is_a_protocol_error(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_response_line(line)


def _lines(*lines: str) -> Callable[[], Awaitable[str]]:
    queue = list(lines)

    async def readline() -> str:
        if not queue:
            raise ChannelHangup("eof")
        return queue.pop(0)

    return readline


async def test_multiline_520_usage_is_read_to_its_end() -> None:
    readline = _lines(
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
        "520 End of proper usage.",
        "200 result=1",
    )
    response = await read_response(readline)
    assert response.code == 520
    assert "Usage: GET DATA" in response.text
    assert (await read_response(readline)).result == "1"


async def test_hangup_line_raises_channel_hangup() -> None:
    with pytest.raises(ChannelHangup):
        await read_response(_lines("HANGUP", "200 result=0"))


async def test_unterminated_520_ends_with_the_connection() -> None:
    with pytest.raises(ChannelHangup):
        await read_response(_lines("520-Invalid command syntax.", " usage"))


def test_environment_lines_and_accessors() -> None:
    pairs = [
        parse_environment_line(line)
        for line in (
            "agi_network: yes",
            "agi_network_script: main?lang=fa",
            "agi_uniqueid: 1700000000.42",
            "agi_callerid: 09131234567",
            "agi_calleridname: unknown",
            "agi_arg_1: first",
            "agi_arg_2: a: b",
            "agi_arg_4: after a gap",
        )
    ]
    env = AgiEnvironment(dict(pairs))
    assert env.network_script == "main"
    assert env.uniqueid == "1700000000.42"
    assert env.caller == "09131234567"
    assert env.caller_name == ""
    assert env.arguments == ("first", "a: b")


@pytest.mark.parametrize("line", ["no colon here", "GET / HTTP/1.1", "Host: x", "agi bad: 1"])
def test_non_agi_environment_lines_are_refused(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_environment_line(line)


def test_quote_escapes_and_refuses_line_breaks() -> None:
    assert quote('fa/say "hi"\\') == '"fa/say \\"hi\\"\\\\"'
    assert quote("") == '""'
    with pytest.raises(ValueError):
        quote("x\nHANGUP")
