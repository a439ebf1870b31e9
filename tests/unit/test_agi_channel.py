"""AgiChannel's translation of AGI answers, over a canned transport (no sockets)."""

from __future__ import annotations

import pytest

from callcenter.agi.channel import AgiChannel, AgiTimeout
from callcenter.agi.protocol import AgiEnvironment, AgiResponse, parse_response_line
from ivr_flows.channel import Channel, ChannelError, ChannelHangup


class CannedTransport:
    """Answers each command with the next canned line (or raises the canned error)."""

    def __init__(self, *answers: str | BaseException) -> None:
        self.answers = list(answers)
        self.commands: list[str] = []
        self.closed = False

    async def execute(
        self, command: str, *, wait: float = 0.0, reply_timeout: float | None = None
    ) -> AgiResponse:
        self.commands.append(command)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return parse_response_line(answer)

    async def close_call(self) -> None:
        self.closed = True


def channel(*answers: str | BaseException) -> tuple[AgiChannel, CannedTransport]:
    transport = CannedTransport(*answers)
    env = AgiEnvironment({"agi_uniqueid": "1.1", "agi_network_script": "/survey?x"})
    return AgiChannel(env, transport), transport


def test_agi_channel_satisfies_the_protocol() -> None:
    ch, _ = channel()
    assert isinstance(ch, Channel)
    assert ch.script == "survey"
    assert ch.caller == ""


@pytest.mark.parametrize(
    ("answer", "reason", "digit"),
    [
        ("200 result=35 (dtmf) endpos=16000", "dtmf", "#"),
        ("200 result=0 (timeout) endpos=960000", "maxlength", ""),
        ("200 result=-1 (hangup) endpos=8000", "hangup", ""),
        ("200 result=-1 endpos=0", "hangup", ""),
    ],
)
async def test_record_outcomes(answer: str, reason: str, digit: str) -> None:
    ch, transport = channel(answer)
    result = await ch.record("/var/spool/asterisk/rec/1", max_seconds=120, beep=False)
    assert (result.path, result.reason, result.digit) == ("/var/spool/asterisk/rec/1", reason,
                                                          digit)
    assert transport.commands == ['RECORD FILE "/var/spool/asterisk/rec/1" "wav" "#" 120000 0']


@pytest.mark.parametrize(
    "gone", [ChannelHangup("HANGUP line"), "511 Command Not Permitted on a dead channel"]
)
async def test_hangup_while_recording_is_a_result_then_the_channel_is_dead(
    gone: str | BaseException,
) -> None:
    ch, transport = channel(gone)
    result = await ch.record("/tmp/r", max_seconds=5)
    assert result.reason == "hangup"
    await ch.hangup()
    assert not transport.closed  # the caller is gone: no HANGUP is sent


async def test_record_write_failure_is_a_channel_error() -> None:
    ch, _ = channel("200 result=-1 (writefile)")
    with pytest.raises(ChannelError, match="RECORD FILE"):
        await ch.record("/nonexistent/dir/r", max_seconds=5)


async def test_silent_asterisk_during_record_is_not_taken_for_a_hangup_result() -> None:
    ch, _ = channel(AgiTimeout("no answer"))
    with pytest.raises(AgiTimeout):
        await ch.record("/tmp/r", max_seconds=5)


async def test_missing_prompt_is_told_apart_from_a_hangup() -> None:
    ch, transport = channel("200 result=-1 endpos=0", "200 result=6")
    assert await ch.play("fa/missing") == ""
    assert transport.commands[1] == "CHANNEL STATUS"
    ch, _ = channel("200 result=-1 endpos=0", "511 Command Not Permitted on a dead channel")
    with pytest.raises(ChannelHangup):
        await ch.play("fa/welcome")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("200 result=123", "123"),
        ("200 result=", ""),  # only '#' pressed
        ("200 result= (timeout)", None),
        ("200 result=4 (timeout)", "4"),
    ],
)
async def test_read_digits_answers(answer: str, expected: str | None) -> None:
    ch, transport = channel(answer)
    assert await ch.read_digits("fa/code", max_digits=8, timeout=2.5) == expected
    assert transport.commands == ['GET DATA "fa/code" 2500 8']


async def test_get_variable_unset_and_set() -> None:
    ch, _ = channel("200 result=0", "200 result=1 ()", "200 result=1 (a b)")
    assert await ch.get_variable("X") is None
    assert await ch.get_variable("Y") == ""
    assert await ch.get_variable("Z") == "a b"


async def test_say_digits_refuses_non_keys_before_sending() -> None:
    ch, transport = channel()
    with pytest.raises(ValueError):
        await ch.say_digits("12; HANGUP")
    assert transport.commands == []


async def test_hangup_is_sent_once() -> None:
    ch, transport = channel()
    await ch.hangup()
    assert transport.closed
    transport.closed = False
    await ch.hangup()
    assert not transport.closed


async def test_unexpected_answer_is_a_channel_error() -> None:
    ch, _ = channel("200 result=yes")
    with pytest.raises(ChannelError, match="ANSWER"):
        await ch.answer()
