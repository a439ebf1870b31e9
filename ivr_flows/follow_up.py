"""Menu 2: follow up a request by its tracking code, as a state machine.

enter code -> report status and department -> offer 0 (agent) -> done.

A code that fails its check digit is caught before any lookup; an unknown
code is told apart; either is asked again, ``max_tries`` times in all.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from ivr_flows.dialog import Dialog, Ending
from ivr_flows.machine import run_machine
from ivr_flows.ports import CodeValidator, IvrBackend, RequestSummary
from ivr_flows.prompts import Prompt, dept_prompt, status_prompt

__all__ = ["FollowUpFlow", "FollowUpState"]

logger = logging.getLogger(__name__)


class FollowUpState(StrEnum):
    ENTER_CODE = "enter_code"
    REPORT = "report"
    OFFER_AGENT = "offer_agent"
    DONE = "done"


class FollowUpFlow:
    """One caller asking about one request; :meth:`run` returns how the call goes on."""

    def __init__(
        self,
        *,
        dialog: Dialog,
        backend: IvrBackend,
        validate_code: CodeValidator,
        can_queue: bool,
    ) -> None:
        self.dialog = dialog
        self.channel = dialog.channel
        self.config = dialog.config
        self.backend = backend
        self.validate_code = validate_code
        self.can_queue = can_queue
        self.ending = Ending.HANGUP
        self.tries = 0
        self.request: RequestSummary | None = None
        self.trace: list[FollowUpState] = []

    async def run(self) -> Ending:
        """Walk the states; ``ChannelHangup`` propagates."""
        self.trace = await run_machine(
            steps={
                FollowUpState.ENTER_CODE: self.enter_code,
                FollowUpState.REPORT: self.report,
                FollowUpState.OFFER_AGENT: self.offer_agent,
            },
            start=FollowUpState.ENTER_CODE,
            final={FollowUpState.DONE},
            max_steps=self.config.max_steps,
            call_id=self.channel.uniqueid,
        )
        return self.ending

    def _give_up(self) -> FollowUpState:
        self.ending = Ending.QUEUE if self.can_queue else Ending.HANGUP
        return FollowUpState.DONE

    async def enter_code(self) -> FollowUpState:
        if self.tries >= self.config.max_tries:
            await self.channel.play(Prompt.TOO_MANY_TRIES)
            return self._give_up()
        self.tries += 1
        typed = await self.channel.read_digits(
            Prompt.ENTER_CODE,
            max_digits=self.config.code_max_digits,
            timeout=self.config.code_timeout,
            terminator="#",
        )
        if not typed:
            await self.dialog.note("code:none")
            await self.channel.play(Prompt.NO_INPUT)
            return FollowUpState.ENTER_CODE
        if not typed.isdigit() or not self.validate_code(typed):
            await self.dialog.note("code:invalid")
            await self.channel.play(Prompt.INVALID_CODE)
            return FollowUpState.ENTER_CODE
        try:
            self.request = await self.backend.lookup(code=typed)
        except Exception:
            logger.exception("call %s: lookup of %s failed", self.channel.uniqueid, typed)
            await self.channel.play(Prompt.TECHNICAL_ERROR)
            return self._give_up()
        if self.request is None:
            await self.dialog.note("code:unknown")
            await self.channel.play(Prompt.UNKNOWN_CODE)
            return FollowUpState.ENTER_CODE
        await self.dialog.note_choice("code", typed)
        return FollowUpState.REPORT

    async def report(self) -> FollowUpState:
        assert self.request is not None
        await self.channel.play(Prompt.REQUEST_STATUS_IS)
        await self.channel.play(status_prompt(self.request.status))
        await self.channel.play(Prompt.REQUEST_DEPT_IS)
        await self.channel.play(dept_prompt(self.request.department_code))
        if not self.can_queue:
            self.ending = Ending.HANGUP
            return FollowUpState.DONE
        return FollowUpState.OFFER_AGENT

    async def offer_agent(self) -> FollowUpState:
        """One offer: 0 reaches an agent, anything else (or nothing) ends the call."""
        assert self.request is not None
        key = await self.channel.read_digits(
            Prompt.FOLLOWUP_AGENT_OFFER, max_digits=1, timeout=self.config.menu_timeout
        )
        if key == "0":
            # Carried to the agent's screen-pop through the AMI VarSet event.
            await self.channel.set_variable("IVR_REQUEST", self.request.code)
            await self.dialog.note_choice("followup", "0")
            self.ending = Ending.QUEUE
        else:
            self.ending = Ending.HANGUP
        return FollowUpState.DONE
