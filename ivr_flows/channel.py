"""The small channel interface every IVR flow is written against.

A flow never sees AGI text, sockets or stdin: it talks to a :class:`Channel`.
Three implementations exist: ``callcenter.agi.channel.AgiChannel`` (FastAGI over
a socket), the classic stdin AGI adapter in ``callcenter.agi.classic`` and
:class:`ivr_flows.scripted.ScriptedChannel` (a test double).

Every method may raise :class:`ChannelHangup` (the caller is gone) or
:class:`ChannelError` (Asterisk refused the command).  Flows normally let
``ChannelHangup`` end them; the server catches both and hangs up cleanly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelHangup",
    "RecordReason",
    "RecordResult",
]

RecordReason = Literal["dtmf", "timeout", "hangup", "maxlength"]


class ChannelHangup(Exception):
    """The caller hung up.

    Raised when AGI answers ``HANGUP``, ``200 result=-1``, ``511 Command Not
    Permitted on a dead channel``, or the socket/pipe closes.
    """


class ChannelError(Exception):
    """An AGI command failed (a 5xx answer other than 511); the message names the command."""


@dataclass(frozen=True)
class RecordResult:
    """What ``RECORD FILE`` ended with.

    ``path`` is the file written, without extension (as passed to
    :meth:`Channel.record`); ``digit`` is the key that stopped it ("" if none);
    ``reason`` is ``'dtmf'`` (a terminator key), ``'timeout'`` (silence),
    ``'hangup'`` (the caller hung up while recording: the file exists and is
    usable) or ``'maxlength'`` (``max_seconds`` reached).
    """

    path: str
    digit: str
    reason: RecordReason


@runtime_checkable
class Channel(Protocol):
    """One call as an IVR flow sees it.

    Attributes come from the AGI environment: ``uniqueid`` (``agi_uniqueid``),
    ``caller`` (``agi_callerid``, raw, not normalised; "" when unknown),
    ``caller_name`` (``agi_calleridname``), ``language`` (``agi_language``),
    ``script`` (``agi_network_script``, e.g. ``'main'``; for classic AGI the
    first script argument) and ``arguments`` (``agi_arg_1`` ...).
    """

    uniqueid: str
    caller: str
    caller_name: str
    language: str
    script: str
    arguments: Sequence[str]

    async def answer(self) -> None:
        """Answer the channel (``ANSWER``)."""
        ...

    async def play(self, prompt: str, *, interrupt: str = "") -> str:
        """Play a sound file (``STREAM FILE``); ``prompt`` has no extension.

        ``interrupt`` lists the keys that may cut the prompt short. Returns the
        key that interrupted, or ``""`` when it played to the end (or the file
        was missing: Asterisk logs that, the call goes on).
        """
        ...

    # ``timeout`` is the caller's DTMF wait that Asterisk applies, not an asyncio timeout.
    async def read_digits(
        self,
        prompt: str,
        *,
        max_digits: int,
        timeout: float,  # noqa: ASYNC109 - the caller's DTMF wait, applied by Asterisk
        terminator: str = "#",
    ) -> str | None:
        """Play ``prompt`` and collect up to ``max_digits`` keys (``GET DATA``).

        ``timeout`` is in seconds, counted after the prompt. Returns the
        digits typed (without the terminator; ``""`` if only the terminator was
        pressed), or ``None`` when nothing was typed before the timeout.
        ``terminator`` is the key that ends input early (Asterisk's ``GET DATA``
        always treats ``#`` as the terminator; other values are for doubles
        and future channels).
        """
        ...

    async def record(
        self,
        path: str,
        *,
        max_seconds: int,
        terminator: str = "#",
        beep: bool = True,
        fmt: str = "wav",
    ) -> RecordResult:
        """Record the caller (``RECORD FILE``) into ``path`` + ``.`` + ``fmt``.

        Stops on a key in ``terminator``, after ``max_seconds``, or on hangup.
        A hangup while recording returns ``reason='hangup'`` rather than
        raising, because what was recorded is still wanted; the next command
        will raise :class:`ChannelHangup`.
        """
        ...

    async def say_digits(self, digits: str) -> None:
        """Speak ``digits`` one by one in the channel's language (``SAY DIGITS``)."""
        ...

    async def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable (``SET VARIABLE``), e.g. ``IVR_CHOICE``."""
        ...

    async def get_variable(self, name: str) -> str | None:
        """Read a channel variable (``GET VARIABLE``); ``None`` when it is not set."""
        ...

    async def hangup(self) -> None:
        """Hang up the channel (``HANGUP``). Safe to call when already hung up."""
        ...
