"""``AgiChannel``: the :class:`ivr_flows.channel.Channel` protocol spoken as AGI.

The channel turns each flow call into one AGI command and reads the answer
through an :class:`AgiTransport`.  Two transports exist: :class:`StreamTransport`
(a FastAGI socket, here) and the pyst2 stdin transport of
:mod:`callcenter.agi.classic`; both share :mod:`callcenter.agi.protocol`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from callcenter.agi.protocol import (
    AgiEnvironment,
    AgiProtocolError,
    AgiResponse,
    AgiValueRefused,
    check_command,
    quote,
    read_response,
)
from ivr_flows.channel import ChannelError, ChannelHangup, RecordResult

__all__ = ["AgiChannel", "AgiTimeout", "AgiTransport", "StreamTransport"]

log = logging.getLogger(__name__)

_HANGUP_TIMEOUT = 2.0
"""A final ``HANGUP`` is best effort: never wait long for a peer that may be gone."""

_DTMF_KEYS = frozenset("0123456789*#ABCD")
_DIGITS_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SPOKEN_SEPARATORS = frozenset(" -\u200c")  # how codes are written, never spoken
_MAX_SAID_DIGITS = 64


class AgiTimeout(ChannelHangup):
    """Asterisk did not answer a command in time: treated as a hangup (half-open peer)."""


class AgiTransport(Protocol):
    """Sends one command line and reads its answer."""

    async def execute(
        self, command: str, *, wait: float = 0.0, reply_timeout: float | None = None
    ) -> AgiResponse:
        """Run ``command``; allow ``wait`` extra seconds (the caller's input time).

        ``reply_timeout`` replaces the transport's own reply timeout when given.
        Raises :class:`ChannelHangup` (including :class:`AgiTimeout`) when the
        peer is gone and :class:`AgiProtocolError` on garbage.
        """
        ...

    async def close_call(self) -> None:
        """Best-effort ``HANGUP`` at the end of a call; never raises, never waits long."""
        ...


class StreamTransport:
    """AGI over an asyncio stream pair, with a reply timeout on every command."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self._broken = False
        self._pending = False
        """A command was sent whose answer was not read (timeout or cancellation)."""

    async def readline(self) -> str:
        """One line without its line break; EOF or a reset raises :class:`ChannelHangup`."""
        try:
            raw = await self._reader.readline()
        except ValueError as exc:  # StreamReader's LimitOverrunError, re-raised as ValueError
            self._broken = True
            raise AgiProtocolError("line longer than the limit") from exc
        except ConnectionError as exc:
            self._broken = True
            raise ChannelHangup(f"connection lost: {exc}") from exc
        if not raw.endswith(b"\n"):
            self._broken = True
            raise ChannelHangup("connection closed by Asterisk")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def execute(
        self, command: str, *, wait: float = 0.0, reply_timeout: float | None = None
    ) -> AgiResponse:
        """Write ``command`` and read its answer within the reply timeout."""
        if self._broken:
            raise ChannelHangup(f"{command.split(' ', 2)[:2]} on a closed connection")
        limit = (self._command_timeout if reply_timeout is None else reply_timeout) + wait
        try:
            async with asyncio.timeout(limit):
                self._pending = True
                self._writer.write(command.encode() + b"\n")
                await self._writer.drain()
                response = await read_response(self.readline)
                self._pending = False
                return response
        except ChannelHangup:
            self._broken = True
            raise
        except TimeoutError as exc:
            raise AgiTimeout(f"no answer to {command!r} within {limit:.1f} s") from exc
        except ConnectionError as exc:
            self._broken = True
            raise ChannelHangup(f"connection lost: {exc}") from exc

    async def close_call(self) -> None:
        """Send ``HANGUP``; read its answer only if the stream is still in step."""
        if self._broken:
            return
        try:
            async with asyncio.timeout(_HANGUP_TIMEOUT):
                self._writer.write(b"HANGUP\n")
                await self._writer.drain()
                if not self._pending:
                    await read_response(self.readline)
        except (TimeoutError, ChannelHangup, AgiProtocolError, OSError) as exc:
            log.debug("HANGUP not confirmed: %s", exc)
        self._broken = True


class AgiChannel:
    """A call seen through AGI; implements :class:`ivr_flows.channel.Channel`."""

    def __init__(
        self,
        env: AgiEnvironment,
        transport: AgiTransport,
        *,
        script: str | None = None,
        arguments: Sequence[str] | None = None,
    ) -> None:
        self.env = env
        self.uniqueid = env.uniqueid
        self.caller = env.caller
        self.caller_name = env.caller_name
        self.language = env.get("agi_language", "en")
        self.script = env.network_script if script is None else script
        self.arguments: Sequence[str] = env.arguments if arguments is None else tuple(arguments)
        self.hung_up = False
        self._transport = transport

    async def answer(self) -> None:
        """``ANSWER``."""
        await self._result_int("ANSWER")

    async def play(self, prompt: str, *, interrupt: str = "") -> str:
        """``STREAM FILE``; the interrupting key or ``""``."""
        command = f"STREAM FILE {quote(prompt)} {quote(interrupt)}"
        code = await self._result_int(command, hangup_on_minus_one=False)
        if code == -1:
            # STREAM FILE answers -1 both for a missing file and for a hangup;
            # ask the channel which one it was.
            await self._result_int("CHANNEL STATUS")
            log.warning("prompt %r could not be played on %s", prompt, self.uniqueid)
            return ""
        return _key_of(code, command) if code > 0 else ""

    async def read_digits(
        self,
        prompt: str,
        *,
        max_digits: int,
        timeout: float,  # noqa: ASYNC109 - the caller's DTMF wait, applied by Asterisk
        terminator: str = "#",
    ) -> str | None:
        """``GET DATA``; ``None`` when the caller typed nothing before the timeout.

        Asterisk always ends ``GET DATA`` input on ``#``; ``terminator`` is
        accepted for the protocol but other keys cannot be honoured here.
        """
        if max_digits < 1:
            raise ValueError("max_digits must be at least 1")
        millis = max(1, round(timeout * 1000))
        command = f"GET DATA {quote(prompt)} {millis} {max_digits}"
        response = await self._run(command, wait=timeout)
        if response.result == "-1":
            self.hung_up = True
            raise ChannelHangup(f"hangup during {command!r}")
        if response.result == "" and response.data == "timeout":
            return None
        return response.result

    async def record(
        self,
        path: str,
        *,
        max_seconds: int,
        terminator: str = "#",
        beep: bool = True,
        fmt: str = "wav",
    ) -> RecordResult:
        """``RECORD FILE``; a hangup while recording is a result, not an error."""
        command = (
            f"RECORD FILE {quote(path)} {quote(fmt)} {quote(terminator)} "
            f"{max_seconds * 1000} 0{' BEEP' if beep else ''}"
        )
        try:
            response = await self._run(command, wait=max_seconds)
        except AgiTimeout:
            raise
        except ChannelHangup:
            # Gone mid-recording (HANGUP line, 511, closed socket): what was
            # recorded is on disk and still wanted.
            return RecordResult(path=path, digit="", reason="hangup")
        if response.data == "hangup":
            self.hung_up = True
            return RecordResult(path=path, digit="", reason="hangup")
        if response.result == "-1":
            if response.data in ("writefile", "waitfor"):
                raise ChannelError(f"{command!r} failed: {response.text}")
            self.hung_up = True
            return RecordResult(path=path, digit="", reason="hangup")
        if response.data == "dtmf":
            return RecordResult(path=path, digit=_key(response, command), reason="dtmf")
        return RecordResult(path=path, digit="", reason="maxlength")

    async def say_digits(self, digits: str) -> None:
        """``SAY DIGITS``: Persian digits become ASCII, separators (``1403-0042``) are
        not spoken; anything else is refused with :class:`AgiValueRefused`."""
        keys = "".join(ch for ch in (digits or "").translate(_DIGITS_ASCII)
                       if ch not in _SPOKEN_SEPARATORS)
        if not keys or not set(keys) <= _DTMF_KEYS or len(keys) > _MAX_SAID_DIGITS:
            raise AgiValueRefused(
                f"SAY DIGITS takes up to {_MAX_SAID_DIGITS} keys 0-9 * #, "
                f"got {len(digits or '')} characters that are not")
        await self._result_int(f'SAY DIGITS {keys} ""')

    async def set_variable(self, name: str, value: str) -> None:
        """``SET VARIABLE``."""
        await self._result_int(f"SET VARIABLE {quote(name)} {quote(value)}")

    async def get_variable(self, name: str) -> str | None:
        """``GET VARIABLE``; ``None`` when unset."""
        response = await self._run(f"GET VARIABLE {quote(name)}")
        if response.result == "1":
            return response.data or ""
        return None

    async def hangup(self) -> None:
        """``HANGUP``, once; never raises.  Nothing is sent when the caller is known gone."""
        if self.hung_up:
            return
        self.hung_up = True
        await self._transport.close_call()

    # -- internals -----------------------------------------------------------------

    async def _run(self, command: str, *, wait: float = 0.0) -> AgiResponse:
        """Execute and translate 511/5xx; a 200 comes back to the caller."""
        check_command(command)  # the one place every command passes: no injected line
        try:
            response = await self._transport.execute(command, wait=wait)
        except AgiTimeout:
            raise
        except ChannelHangup:
            self.hung_up = True
            raise
        if response.code == 511:
            self.hung_up = True
            raise ChannelHangup(f"{command!r} on a dead channel")
        if not response.ok:
            raise ChannelError(f"{command!r} failed: {response.text}")
        return response

    async def _result_int(self, command: str, *, hangup_on_minus_one: bool = True) -> int:
        response = await self._run(command)
        try:
            value = int(response.result)
        except ValueError:
            raise ChannelError(f"{command!r}: unexpected answer {response.text!r}") from None
        if value == -1 and hangup_on_minus_one:
            self.hung_up = True
            raise ChannelHangup(f"hangup during {command!r}")
        return value


def _key(response: AgiResponse, command: str) -> str:
    try:
        code = int(response.result)
    except ValueError:
        raise ChannelError(f"{command!r}: unexpected answer {response.text!r}") from None
    return _key_of(code, command)


def _key_of(code: int, command: str) -> str:
    """The DTMF key Asterisk reports as its character code; anything else is garbage
    (``chr`` of a huge number raises OverflowError, of a small one gives a non-key)."""
    key = chr(code) if 0 < code < 128 else ""
    if key not in _DTMF_KEYS:
        raise ChannelError(f"{command.split(' ', 2)[:2]}: {code} is not a DTMF key")
    return key
