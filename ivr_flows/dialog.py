"""What every flow does the same way: ask for a key, write the path, end the call.

A :class:`Dialog` wraps one :class:`~ivr_flows.channel.Channel` for one session.
It writes each choice onto the call (``IVR_CHOICE`` = the last choice,
``IVR_PATH`` = every step so far, e.g. ``menu:1>category:3>recorded``) so the
AMI tracker sees them as ``VarSet`` events and the call record carries them,
and it ends a flow by the dialplan contract: ``IVR_NEXT`` is ``queue`` or
``hangup`` before the AGI script returns.
"""

from __future__ import annotations

from enum import StrEnum

from ivr_flows.channel import Channel
from ivr_flows.config import FlowConfig
from ivr_flows.prompts import Prompt

__all__ = ["Dialog", "Ending"]

PATH_SEPARATOR = ">"
MAX_PATH_CHARS = 1000
"""Asterisk keeps any length, but AMI events and CDR fields get unwieldy past this."""


class Ending(StrEnum):
    """How a flow hands the call back to the dialplan (the value of ``IVR_NEXT``)."""

    QUEUE = "queue"
    HANGUP = "hangup"


class Dialog:
    """One IVR session's talking helpers over a channel."""

    def __init__(self, channel: Channel, config: FlowConfig) -> None:
        self.channel = channel
        self.config = config
        self.path: list[str] = []

    async def resume_path(self) -> None:
        """Continue the ``IVR_PATH`` an earlier AGI session left on this channel."""
        earlier = await self.channel.get_variable("IVR_PATH")
        if earlier:
            self.path = earlier.split(PATH_SEPARATOR)

    async def note_choice(self, step: str, value: str) -> None:
        """A caller's accepted choice: sets ``IVR_CHOICE`` and extends ``IVR_PATH``."""
        await self.channel.set_variable("IVR_CHOICE", value)
        await self.note(f"{step}:{value}")

    async def note(self, event: str) -> None:
        """Extend ``IVR_PATH`` with an event that is not a key choice (``recorded``...)."""
        self.path.append(event)
        text = PATH_SEPARATOR.join(self.path)
        if len(text) > MAX_PATH_CHARS:
            text = "…" + text[-MAX_PATH_CHARS:]
        await self.channel.set_variable("IVR_PATH", text)

    async def ask_key(self, prompt: str, *, valid: str, step: str) -> str | None:
        """Ask for one key of ``valid``, up to ``max_tries`` times.

        No input plays ``no-input``, a wrong key ``invalid-choice``, and both are
        noted on the path (``<step>:none`` / ``<step>:invalid``). Returns the key,
        or ``None`` when every try failed. The choice itself is not noted: the
        caller of this method names it.
        """
        for _ in range(self.config.max_tries):
            key = await self.channel.read_digits(
                prompt, max_digits=1, timeout=self.config.menu_timeout
            )
            if key is None or key == "":
                await self.note(f"{step}:none")
                await self.channel.play(Prompt.NO_INPUT)
            elif len(key) == 1 and key in valid:
                return key
            else:
                await self.note(f"{step}:invalid")
                await self.channel.play(Prompt.INVALID_CHOICE)
        return None

    async def end(self, ending: Ending) -> None:
        """Hand the call back: to the queue (after "please hold") or goodbye and hang up."""
        await self.note(ending.value)
        await self.channel.set_variable("IVR_NEXT", ending.value)
        if ending is Ending.QUEUE:
            await self.channel.play(Prompt.PLEASE_HOLD)
            return
        await self.channel.play(Prompt.GOODBYE)
        await self.channel.hangup()
