"""What goes into and comes out of an AGI command is checked at the AGI boundary.

What was tried (issue 12, Low): answers with a huge ``endpos=`` or a huge ``result=``
(before: ``ValueError``/``OverflowError`` raised out of the channel into the session,
logged as a crash); ``SAY DIGITS`` of a written code ``1403-0042-7`` and of letters
(before: ``ValueError``, the caller was hung up); values with CR/LF/NUL and over-long
commands (refused before anything is written; an injected second command never
reaches Asterisk).
"""

from __future__ import annotations

import logging

import pytest
from test_agi_channel import channel

from callcenter.agi.protocol import (
    MAX_COMMAND_BYTES,
    AgiProtocolError,
    AgiValueRefused,
    check_command,
    parse_response_line,
)
from callcenter.agi.session import SessionOutcome, run_handler
from ivr_flows.channel import Channel, ChannelError

HUGE = "9" * 5000


def test_a_huge_endpos_is_a_protocol_error_not_a_value_error() -> None:
    with pytest.raises(AgiProtocolError, match="endpos"):
        parse_response_line(f"200 result=0 endpos={HUGE}")
    assert parse_response_line("200 result=0 endpos=960000").endpos == 960000


@pytest.mark.parametrize("answer", [f"200 result={HUGE}", "200 result=1208925819614629174706176",
                                    "200 result=69"])
async def test_a_key_that_is_no_dtmf_key_is_a_channel_error(answer: str) -> None:
    ch, _ = channel(answer)
    with pytest.raises(ChannelError):
        await ch.play("welcome", interrupt="0123456789")


async def test_the_session_ends_cleanly_on_a_huge_endpos(caplog: pytest.LogCaptureFixture) -> None:
    ch, transport = channel(f"200 result=0 endpos={HUGE}", "200 result=1")

    async def flow(c: Channel) -> None:
        await c.play("welcome")

    with caplog.at_level(logging.ERROR):
        outcome = await run_handler(ch, flow, deadline=5)
    assert outcome is SessionOutcome.FAILED and transport.closed
    assert not [r for r in caplog.records if r.exc_info]  # an error line, not a crash


async def test_say_digits_speaks_written_codes_and_refuses_letters() -> None:
    ch, transport = channel("200 result=0", "200 result=0")
    await ch.say_digits("1403-0042-7")
    await ch.say_digits("۱۴۰۳ ۰۰۴۲")
    assert transport.commands == ['SAY DIGITS 140300427 ""', 'SAY DIGITS 14030042 ""']
    for bad in ("abc", "12\nHANGUP", "", "1" * 65):
        with pytest.raises(AgiValueRefused):
            await ch.say_digits(bad)
    assert len(transport.commands) == 2


@pytest.mark.parametrize("value", ["x\nEXEC System rm", "x\rHANGUP", "x\x00y"])
async def test_values_with_line_breaks_never_reach_asterisk(value: str) -> None:
    ch, transport = channel()
    for attempt in (ch.set_variable("IVR_NOTE", value), ch.set_variable(value, "1"),
                    ch.play(value), ch.get_variable(value)):
        with pytest.raises(AgiValueRefused):
            await attempt
    assert transport.commands == []


async def test_an_over_long_command_is_refused() -> None:
    ch, transport = channel()
    with pytest.raises(AgiValueRefused, match="longer"):
        await ch.set_variable("IVR_NOTE", "x" * MAX_COMMAND_BYTES)
    assert transport.commands == []
    with pytest.raises(AgiValueRefused):
        check_command('SAY DIGITS 1 ""\nEXEC Hangup')
