"""The AGI wire format, shared by the FastAGI server and the classic entry point.

Asterisk opens a session with ``agi_*: value`` lines ended by a blank line, then
answers every command with one line::

    200 result=1
    200 result=49 endpos=12345
    200 result=1 (some value) endpos=0
    200 result= (timeout)
    510 Invalid or unknown command
    511 Command Not Permitted on a dead channel or intercept routine

except ``520`` (usage), which spans lines (``520-Invalid command syntax...`` up to
a line starting ``520 ``).  On a hangup Asterisk may also send a bare ``HANGUP``
line at any moment (FastAGI, ``AGISIGHUP`` not ``no``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ivr_flows.channel import ChannelError, ChannelHangup

__all__ = [
    "MAX_COMMAND_BYTES",
    "MAX_HEADER_LINES",
    "AgiEnvironment",
    "AgiProtocolError",
    "AgiResponse",
    "AgiValueRefused",
    "check_command",
    "parse_environment_line",
    "parse_response_line",
    "quote",
    "read_response",
]

MAX_HEADER_LINES = 256
"""Asterisk sends about 30 ``agi_*`` lines (plus ``agi_arg_N``); more is a hostile peer."""

MAX_COMMAND_BYTES = 2048
"""Asterisk reads an AGI command into a 2048-byte buffer (``AGI_BUF_LEN``)."""

_MAX_ENDPOS_DIGITS = 18
"""A file offset in samples: 18 digits is far beyond any file and well inside int64."""

_RESPONSE = re.compile(
    r"^(?P<code>\d{3})"
    r"(?: result=(?P<result>\S*))?"
    # Greedy: the data of GET VARIABLE may itself contain parentheses.
    r"(?: \((?P<data>.*)\))?"
    r"(?: endpos=(?P<endpos>-?\d+))?"
    r"(?P<rest>(?: .*)?)$"
)


class AgiProtocolError(Exception):
    """The peer sent something that is not AGI (garbage, an oversized line, too many lines)."""


class AgiValueRefused(ChannelError, ValueError):
    """A value for an AGI command was refused before sending: it holds CR, LF or NUL
    (which would end the command and start another of the sender's choosing), or is
    not what the command takes (``SAY DIGITS`` of letters), or is too long."""


@dataclass(frozen=True)
class AgiResponse:
    """One parsed answer to a command."""

    code: int
    result: str = ""
    data: str | None = None
    endpos: int | None = None
    text: str = ""
    """The raw line(s), for error messages."""

    @property
    def ok(self) -> bool:
        """True for ``200``."""
        return self.code == 200


@dataclass(frozen=True)
class AgiEnvironment:
    """The ``agi_*`` variables Asterisk sends first, with typed access to the ones we use."""

    values: Mapping[str, str]

    def get(self, key: str, default: str = "") -> str:
        """One variable by its full name (``agi_uniqueid``)."""
        return self.values.get(key, default)

    @property
    def uniqueid(self) -> str:
        """``agi_uniqueid`` (``"unknown"`` when absent, so logs always name something)."""
        return self.values.get("agi_uniqueid") or "unknown"

    @property
    def network_script(self) -> str:
        """The path of ``agi://host:port/<path>?<query>``, without slashes around it."""
        raw = self.values.get("agi_network_script", "")
        return raw.split("?", 1)[0].strip("/")

    @property
    def arguments(self) -> tuple[str, ...]:
        """``agi_arg_1``, ``agi_arg_2`` ... in order, up to the first gap."""
        args: list[str] = []
        while (value := self.values.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(value)
        return tuple(args)

    @property
    def caller(self) -> str:
        """``agi_callerid``; Asterisk writes ``unknown`` when there is none."""
        value = self.values.get("agi_callerid", "")
        return "" if value.lower() == "unknown" else value

    @property
    def caller_name(self) -> str:
        """``agi_calleridname`` (``unknown`` mapped to ``""``)."""
        value = self.values.get("agi_calleridname", "")
        return "" if value.lower() == "unknown" else value


def parse_environment_line(line: str) -> tuple[str, str]:
    """Split ``agi_key: value``; raise :class:`AgiProtocolError` on anything else."""
    key, sep, value = line.partition(":")
    key = key.strip()
    if not sep or not key.startswith("agi_") or not key.isascii() or " " in key:
        raise AgiProtocolError(f"not an AGI environment line: {line[:80]!r}")
    return key, value.strip()


def parse_response_line(line: str) -> AgiResponse:
    """Parse one single-line answer; raise :class:`AgiProtocolError` if it is not one."""
    match = _RESPONSE.match(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI response: {line[:80]!r}")
    if match["code"] == "200" and match["result"] is None:
        raise AgiProtocolError(f"200 without result=: {line[:80]!r}")
    endpos = match["endpos"]
    if endpos is not None and len(endpos.lstrip("-")) > _MAX_ENDPOS_DIGITS:
        # int() of thousands of digits raises ValueError (or costs quadratic time).
        raise AgiProtocolError(f"endpos out of range: {line[:80]!r}")
    return AgiResponse(
        code=int(match["code"]),
        result=match["result"] or "",
        data=match["data"],
        endpos=int(endpos) if endpos is not None else None,
        text=line,
    )


async def read_response(readline: Callable[[], Awaitable[str]]) -> AgiResponse:
    """Read one complete answer through ``readline`` (one line, no newline; EOF raises).

    ``HANGUP`` raises :class:`ChannelHangup`; a ``520-`` usage block is read to its end.
    """
    line = await readline()
    if line == "HANGUP":
        raise ChannelHangup("Asterisk sent HANGUP")
    if line.startswith("520-"):
        lines = [line]
        for _ in range(MAX_HEADER_LINES):
            nxt = await readline()
            lines.append(nxt)
            if nxt.startswith("520 "):
                return AgiResponse(code=520, text="\n".join(lines))
        raise AgiProtocolError("520 usage answer without an end line")
    return parse_response_line(line)


def check_command(command: str) -> None:
    """Refuse a command line that could be read as two, or is longer than Asterisk reads.

    Every command passes here before it is written (``AgiChannel._run``), whatever
    built it; the error names the command, never the value (a caller's data).
    """
    if "\n" in command or "\r" in command or "\0" in command:
        raise AgiValueRefused(f"AGI {command.split(' ', 1)[0]} holds a line break or NUL")
    if len(command.encode()) + 1 > MAX_COMMAND_BYTES:
        raise AgiValueRefused(
            f"AGI {command.split(' ', 1)[0]} is longer than Asterisk reads "
            f"({MAX_COMMAND_BYTES} bytes)")


def quote(value: str) -> str:
    """Quote one command argument the way Asterisk's ``parse_args`` undoes it."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise AgiValueRefused("AGI argument cannot contain a line break or NUL")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
