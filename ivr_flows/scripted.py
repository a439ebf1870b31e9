"""A scripted :class:`~ivr_flows.channel.Channel` for unit tests of the flows.

The test writes what the caller does, one *action* per interactive command,
and afterwards reads back every command the flow made::

    ch = ScriptedChannel(["1", None, "3", HANGUP], caller="09131234567")
    await main_flow(ch, ...)
    assert ch.played[0] == "fa/welcome"
    assert ch.variables["IVR_CHOICE"] == "1"

Actions are consumed, in order, by the commands that wait for the caller:

============  ===============================  ==========================  ====================
action        ``read_digits``                  ``play(interrupt=...)``     ``record``
============  ===============================  ==========================  ====================
``"123"``     returns ``"123"``                 key, if one char in         stops on that key
                                               ``interrupt`` (else not     (``reason='dtmf'``)
                                               consumed, returns ``""``)
``None``      returns ``None`` (timeout)       not consumed, returns ``""``  ``'maxlength'``
``HANGUP``    raises ``ChannelHangup``         raises ``ChannelHangup``    ``reason='hangup'``
``Recorded``  error (script mistake)           not consumed                that result
============  ===============================  ==========================  ====================

``hangup_after=N`` hangs the caller up once N commands have run: command N+1
(counting every command, 0 based index N) raises :class:`ChannelHangup`, as
Asterisk does on a dead channel.  When the script runs out, a waiting command
raises :class:`ScriptExhausted` (an ``AssertionError``) so a looping flow fails
the test instead of hanging; pass ``exhausted="hangup"`` to hang up instead.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from ivr_flows.channel import ChannelError, ChannelHangup, RecordReason, RecordResult

__all__ = ["HANGUP", "ChannelCommand", "Recorded", "ScriptExhausted", "ScriptedChannel"]


class _Hangup:
    """Type of the :data:`HANGUP` action."""

    def __repr__(self) -> str:
        return "HANGUP"


HANGUP: Final = _Hangup()
"""The action "the caller hangs up now"."""


@dataclass(frozen=True)
class Recorded:
    """An explicit outcome for ``record`` (e.g. ``Recorded("timeout")``)."""

    reason: RecordReason
    digit: str = ""


Action = str | None | _Hangup | Recorded


class ScriptExhausted(AssertionError):
    """The flow waited for the caller more often than the script foresaw."""


@dataclass(frozen=True)
class ChannelCommand:
    """One command the flow made: its method name and keyword-style arguments."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


class ScriptedChannel:
    """A :class:`~ivr_flows.channel.Channel` driven by a script of caller actions."""

    def __init__(
        self,
        actions: Iterable[Action] = (),
        *,
        caller: str = "09131234567",
        caller_name: str = "",
        uniqueid: str = "1700000000.1",
        language: str = "fa",
        script: str = "main",
        arguments: Sequence[str] = (),
        variables: Mapping[str, str] | None = None,
        hangup_after: int | None = None,
        exhausted: Literal["error", "hangup"] = "error",
        fail_commands: Iterable[str] = (),
        create_recordings: bool = False,
    ) -> None:
        self.uniqueid = uniqueid
        self.caller = caller
        self.caller_name = caller_name
        self.language = language
        self.script = script
        self.arguments: Sequence[str] = tuple(arguments)
        self.variables: dict[str, str] = dict(variables or {})
        self.calls: list[ChannelCommand] = []
        self.hung_up_by_caller = False
        self.hung_up_by_flow = False
        self._actions: deque[Action] = deque(actions)
        self._hangup_after = hangup_after
        self._exhausted = exhausted
        self._fail_commands = frozenset(fail_commands)
        self._create_recordings = create_recordings

    # -- what the test reads back -------------------------------------------------

    @property
    def commands(self) -> list[str]:
        """The names of the commands made, in order."""
        return [call.name for call in self.calls]

    @property
    def played(self) -> list[str]:
        """Every prompt played, by ``play`` or as the prompt of ``read_digits``."""
        return [c.args["prompt"] for c in self.calls if c.name in ("play", "read_digits")]

    @property
    def said(self) -> list[str]:
        """Every digit string spoken with ``say_digits``."""
        return [c.args["digits"] for c in self.calls if c.name == "say_digits"]

    @property
    def remaining(self) -> list[Action]:
        """The actions the flow has not consumed."""
        return list(self._actions)

    # -- the Channel protocol ------------------------------------------------------

    async def answer(self) -> None:
        """Answer (recorded only)."""
        self._enter("answer")

    async def play(self, prompt: str, *, interrupt: str = "") -> str:
        """Return a one-key action if it is in ``interrupt``, else ``""``."""
        self._enter("play", prompt=prompt, interrupt=interrupt)
        nxt = self._actions[0] if self._actions else None
        if interrupt and nxt is HANGUP:
            self._caller_hangs_up()
        if isinstance(nxt, str) and len(nxt) == 1 and nxt in interrupt:
            self._actions.popleft()
            return nxt
        return ""

    async def read_digits(
        self,
        prompt: str,
        *,
        max_digits: int,
        timeout: float,  # noqa: ASYNC109 - the caller's DTMF wait, applied by Asterisk
        terminator: str = "#",
    ) -> str | None:
        """Return the next scripted digits (cut to ``max_digits``) or ``None``."""
        self._enter(
            "read_digits",
            prompt=prompt,
            max_digits=max_digits,
            timeout=timeout,
            terminator=terminator,
        )
        action = self._next_action()
        if action is HANGUP:
            self._caller_hangs_up()
        if isinstance(action, Recorded):
            raise ScriptExhausted(f"read_digits got a Recorded action: {action!r}")
        if action is None:
            return None
        assert isinstance(action, str)
        digits = action.split(terminator, 1)[0] if terminator else action
        return digits[:max_digits]

    async def record(
        self,
        path: str,
        *,
        max_seconds: int,
        terminator: str = "#",
        beep: bool = True,
        fmt: str = "wav",
    ) -> RecordResult:
        """Return the scripted outcome; optionally write a placeholder file."""
        self._enter(
            "record", path=path, max_seconds=max_seconds, terminator=terminator,
            beep=beep, fmt=fmt,
        )
        action = self._next_action()
        if self._create_recordings:
            await asyncio.to_thread(
                Path(f"{path}.{fmt}").write_bytes, b"RIFF-scripted-recording"
            )
        if action is HANGUP:
            self.hung_up_by_caller = True
            return RecordResult(path=path, digit="", reason="hangup")
        if isinstance(action, Recorded):
            if action.reason == "hangup":
                self.hung_up_by_caller = True
            return RecordResult(path=path, digit=action.digit, reason=action.reason)
        if action is None:
            return RecordResult(path=path, digit="", reason="maxlength")
        assert isinstance(action, str)
        return RecordResult(path=path, digit=action[:1], reason="dtmf")

    async def say_digits(self, digits: str) -> None:
        """Record the digits spoken."""
        self._enter("say_digits", digits=digits)

    async def set_variable(self, name: str, value: str) -> None:
        """Store the variable in :attr:`variables`."""
        self._enter("set_variable", name=name, value=value)
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        """Read from :attr:`variables`."""
        self._enter("get_variable", name=name)
        return self.variables.get(name)

    async def hangup(self) -> None:
        """Mark the call hung up by the flow; never raises."""
        self.calls.append(ChannelCommand("hangup"))
        self.hung_up_by_flow = True

    # -- internals -------------------------------------------------------------------

    def _enter(self, command: str, /, **args: Any) -> None:
        """Record a command; raise as Asterisk would on a dead channel."""
        self.calls.append(ChannelCommand(command, args))
        if self.hung_up_by_caller or self.hung_up_by_flow:
            raise ChannelHangup(f"{command} on a hung-up channel")
        if self._hangup_after is not None and len(self.calls) > self._hangup_after:
            self._caller_hangs_up()
        if command in self._fail_commands:
            raise ChannelError(f"{command} failed (scripted)")

    def _next_action(self) -> Action:
        if not self._actions:
            if self._exhausted == "hangup":
                self._caller_hangs_up()
            raise ScriptExhausted(
                f"the flow waited for the caller after the script ended; calls: {self.commands}"
            )
        return self._actions.popleft()

    def _caller_hangs_up(self) -> None:
        self.hung_up_by_caller = True
        raise ChannelHangup("the caller hung up (scripted)")
