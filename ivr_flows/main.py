"""The 137 call (AGI script ``main``): greeting, known caller, main menu, as a state machine.

greeting -> [known caller -> [all open requests]] -> menu -> new request | follow up
| agent -> end. Out of hours, or with no agent logged in, the menu offers only
1 and 2 and every dead end says goodbye instead of queueing.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from ivr_flows.dialog import Dialog, Ending
from ivr_flows.follow_up import FollowUpFlow
from ivr_flows.machine import run_machine
from ivr_flows.new_request import NewRequestFlow
from ivr_flows.ports import CodeValidator, IvrBackend, RequestSummary
from ivr_flows.prompts import Prompt, status_prompt

__all__ = ["MainFlow", "MainState"]

logger = logging.getLogger(__name__)

HEAR_ALL_KEY = "9"


class MainState(StrEnum):
    GREETING = "greeting"
    KNOWN_CALLER = "known_caller"
    ALL_OPEN = "all_open"
    MENU = "menu"
    NEW_REQUEST = "new_request"
    FOLLOW_UP = "follow_up"
    AGENT = "agent"
    GIVE_UP = "give_up"
    END = "end"
    DONE = "done"


class MainFlow:
    """One 137 call from answer to ``IVR_NEXT``."""

    def __init__(
        self, *, dialog: Dialog, backend: IvrBackend, validate_code: CodeValidator
    ) -> None:
        self.dialog = dialog
        self.channel = dialog.channel
        self.config = dialog.config
        self.backend = backend
        self.validate_code = validate_code
        self.open_requests: list[RequestSummary] = []
        self.is_open = True
        self.agents = True
        self.ending = Ending.HANGUP
        self.trace: list[MainState] = []

    @property
    def can_queue(self) -> bool:
        """Whether 0 and the queue are offered at all."""
        return self.is_open and self.agents

    @property
    def menu_keys(self) -> str:
        return "120" if self.can_queue else "12"

    async def run(self) -> list[MainState]:
        """Run the call; returns the states visited. ``ChannelHangup`` propagates."""
        self.trace = await run_machine(
            steps={
                MainState.GREETING: self.greet,
                MainState.KNOWN_CALLER: self.known_caller,
                MainState.ALL_OPEN: self.all_open,
                MainState.MENU: self.menu,
                MainState.NEW_REQUEST: self.new_request,
                MainState.FOLLOW_UP: self.follow_up,
                MainState.AGENT: self.agent,
                MainState.GIVE_UP: self.give_up,
                MainState.END: self.end,
            },
            start=MainState.GREETING,
            final={MainState.DONE},
            max_steps=self.config.max_steps,
            call_id=self.channel.uniqueid,
        )
        return self.trace

    async def _ask_backend(self) -> None:
        """Availability and the caller's open requests; a failing backend must not drop the call."""
        call_id = self.channel.uniqueid
        try:
            self.is_open = await self.backend.is_open_now()
            self.agents = await self.backend.agents_available()
        except Exception:
            # Offering 0 is the safe side: the queue itself copes with no agent.
            logger.exception("call %s: availability check failed", call_id)
            self.is_open, self.agents = True, True
        if any(ch.isdigit() for ch in self.channel.caller):
            try:
                self.open_requests = await self.backend.open_requests(phone=self.channel.caller)
            except Exception:
                logger.exception("call %s: open requests lookup failed", call_id)

    async def greet(self) -> MainState:
        await self.channel.answer()
        await self._ask_backend()
        await self.channel.play(Prompt.GREETING)
        return MainState.KNOWN_CALLER if self.open_requests else MainState.MENU

    async def _say_request(self, request: RequestSummary) -> None:
        await self.channel.say_digits(request.code)
        await self.channel.play(Prompt.OPEN_REQUEST_STATUS)
        await self.channel.play(status_prompt(request.status))

    async def known_caller(self) -> MainState:
        newest = max(self.open_requests, key=lambda r: r.created)
        await self.channel.play(Prompt.OPEN_REQUEST_NOTICE)
        await self._say_request(newest)
        key = await self.channel.read_digits(
            Prompt.OPEN_REQUESTS_OFFER, max_digits=1, timeout=self.config.greeting_offer_timeout
        )
        if key == HEAR_ALL_KEY:
            await self.dialog.note_choice("greeting", key)
            return MainState.ALL_OPEN
        if key and key in self.menu_keys:
            # "or continue": a caller who knows the menu may press its key right away.
            return await self._menu_choice(key)
        return MainState.MENU

    async def all_open(self) -> MainState:
        await self.channel.play(Prompt.OPEN_REQUESTS_ALL)
        for request in sorted(self.open_requests, key=lambda r: r.created, reverse=True):
            await self.channel.play(Prompt.REQUEST_CODE)
            await self._say_request(request)
        return MainState.MENU

    async def menu(self) -> MainState:
        if self.can_queue:
            prompt = Prompt.MENU_MAIN
        else:
            await self.channel.play(Prompt.CLOSED_HOURS if not self.is_open else Prompt.NO_AGENTS)
            prompt = Prompt.MENU_LIMITED
        key = await self.dialog.ask_key(prompt, valid=self.menu_keys, step="menu")
        if key is None:
            return MainState.GIVE_UP
        return await self._menu_choice(key)

    async def _menu_choice(self, key: str) -> MainState:
        await self.dialog.note_choice("menu", key)
        return {"1": MainState.NEW_REQUEST, "2": MainState.FOLLOW_UP}.get(key, MainState.AGENT)

    async def new_request(self) -> MainState:
        flow = NewRequestFlow(dialog=self.dialog, backend=self.backend, can_queue=self.can_queue)
        self.ending = await flow.run()
        return MainState.END

    async def follow_up(self) -> MainState:
        flow = FollowUpFlow(
            dialog=self.dialog,
            backend=self.backend,
            validate_code=self.validate_code,
            can_queue=self.can_queue,
        )
        self.ending = await flow.run()
        return MainState.END

    async def agent(self) -> MainState:
        self.ending = Ending.QUEUE
        return MainState.END

    async def give_up(self) -> MainState:
        await self.channel.play(Prompt.TOO_MANY_TRIES)
        self.ending = Ending.QUEUE if self.can_queue else Ending.HANGUP
        return MainState.END

    async def end(self) -> MainState:
        if self.ending is Ending.QUEUE:
            # Read by the dialplan's Queue() as its first timeout (extensions.conf).
            await self.channel.set_variable(
                "CALLBACK_OFFER_AFTER", str(self.config.callback_offer_after))
        await self.dialog.end(self.ending)
        return MainState.DONE
