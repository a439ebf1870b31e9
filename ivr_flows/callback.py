"""AGI script ``callback``: the caller pressed 1 while waiting in the queue.

queues.conf ``context=queue-exit`` sends a waiting caller who presses 1 to this
script. It makes a callback task that keeps their place (ordered by when they
joined the queue: the dialplan stores ``QUEUE_JOINED`` = ``${EPOCH}`` before
``Queue()``), thanks them and hangs up. A caller whose number is unknown cannot
be called back and is sent back to the queue.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from enum import StrEnum

from ivr_flows.dialog import Dialog, Ending
from ivr_flows.machine import run_machine
from ivr_flows.ports import IvrBackend
from ivr_flows.prompts import Prompt

__all__ = ["CallbackFlow", "CallbackState", "parse_joined"]

logger = logging.getLogger(__name__)


def parse_joined(value: str | None) -> datetime | None:
    """``QUEUE_JOINED`` as an aware datetime: epoch seconds or ISO 8601; ``None`` if unusable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CallbackState(StrEnum):
    REGISTER = "register"
    END = "end"
    DONE = "done"


class CallbackFlow:
    """One waiting caller asking to be called back."""

    def __init__(self, *, dialog: Dialog, backend: IvrBackend) -> None:
        self.dialog = dialog
        self.channel = dialog.channel
        self.config = dialog.config
        self.backend = backend
        self.ending = Ending.HANGUP
        self.queued_at: datetime | None = None
        self.trace: list[CallbackState] = []

    async def run(self) -> list[CallbackState]:
        """Run the session; returns the states visited."""
        self.trace = await run_machine(
            steps={CallbackState.REGISTER: self.register, CallbackState.END: self.end},
            start=CallbackState.REGISTER,
            final={CallbackState.DONE},
            max_steps=self.config.max_steps,
            call_id=self.channel.uniqueid,
        )
        return self.trace

    async def register(self) -> CallbackState:
        await self.dialog.resume_path()
        await self.dialog.note_choice("queue", "1")
        if not any(ch.isdigit() for ch in self.channel.caller):
            await self.dialog.note("callback:no-number")
            await self.channel.play(Prompt.CALLBACK_NO_NUMBER)
            self.ending = Ending.QUEUE
            return CallbackState.END
        joined = await self.channel.get_variable("QUEUE_JOINED")
        self.queued_at = parse_joined(joined) or self.config.clock()
        request_code = await self.channel.get_variable("IVR_REQUEST") or None
        try:
            await self.backend.create_callback(
                phone=self.channel.caller,
                call_uniqueid=self.channel.uniqueid,
                queued_at=self.queued_at,
                request_code=request_code,
            )
        except Exception:
            logger.exception("call %s: creating the callback failed", self.channel.uniqueid)
            await self.channel.play(Prompt.TECHNICAL_ERROR)
            self.ending = Ending.QUEUE
            return CallbackState.END
        await self.dialog.note("callback")
        await self.channel.play(Prompt.CALLBACK_CONFIRMED)
        self.ending = Ending.HANGUP
        return CallbackState.END

    async def end(self) -> CallbackState:
        await self.dialog.end(self.ending)
        return CallbackState.DONE
