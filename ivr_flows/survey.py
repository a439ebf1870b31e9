"""AGI script ``survey``: the outbound satisfaction call, as a state machine.

intro -> rate 1..5 -> fixed? 1 yes / 2 no -> store -> end. ``9`` while rating opts the
citizen out of every follow-up (voice and SMS) and ends the call. The request code
comes as the script's first argument (``agi://…/survey,<code>``) or in the
channel variable ``SURVEY_REQUEST`` set by the originate. A rating given before
the caller hangs up (or fails the second question) is still stored, with
``fixed`` unknown.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from ivr_flows.channel import ChannelHangup
from ivr_flows.dialog import Dialog, Ending
from ivr_flows.machine import run_machine
from ivr_flows.ports import IvrBackend
from ivr_flows.prompts import Prompt

__all__ = ["SurveyFlow", "SurveyState"]

logger = logging.getLogger(__name__)

RATING_KEYS = "12345"
OPT_OUT_KEY = "9"
FIXED_KEYS = {"1": True, "2": False}


class SurveyState(StrEnum):
    INTRO = "intro"
    RATE = "rate"
    FIXED = "fixed"
    STORE = "store"
    END = "end"
    DONE = "done"


class SurveyFlow:
    """One survey call about one request."""

    def __init__(self, *, dialog: Dialog, backend: IvrBackend) -> None:
        self.dialog = dialog
        self.channel = dialog.channel
        self.config = dialog.config
        self.backend = backend
        self.request_code: str | None = None
        self.rating: int | None = None
        self.fixed: bool | None = None
        self.stored = False
        self.caller_gone = False
        self.trace: list[SurveyState] = []

    async def run(self) -> list[SurveyState]:
        """Run the call; ``ChannelHangup`` propagates after a given rating is stored."""
        self.trace = await run_machine(
            steps={
                SurveyState.INTRO: self.intro,
                SurveyState.RATE: self.rate,
                SurveyState.FIXED: self.ask_fixed,
                SurveyState.STORE: self.store,
                SurveyState.END: self.end,
            },
            start=SurveyState.INTRO,
            final={SurveyState.DONE},
            max_steps=self.config.max_steps,
            call_id=self.channel.uniqueid,
        )
        return self.trace

    async def intro(self) -> SurveyState:
        await self.channel.answer()
        from_args = self.channel.arguments[0].strip() if self.channel.arguments else ""
        code = from_args or (await self.channel.get_variable("SURVEY_REQUEST") or "").strip()
        if not code:
            logger.error("call %s: survey without a request code", self.channel.uniqueid)
            return SurveyState.END
        self.request_code = code
        await self.dialog.note(f"survey:{code}")
        await self.channel.play(Prompt.SURVEY_INTRO)
        await self.channel.say_digits(code)
        return SurveyState.RATE

    async def rate(self) -> SurveyState:
        key = await self.dialog.ask_key(Prompt.SURVEY_RATE, valid=RATING_KEYS + OPT_OUT_KEY,
                                        step="rating")
        if key == OPT_OUT_KEY:
            assert self.request_code is not None
            await self.dialog.note_choice("opt_out", key)
            await self.backend.opt_out(request_code=self.request_code,
                                       call_uniqueid=self.channel.uniqueid)
            await self.channel.play(Prompt.SURVEY_THANKS)
            return SurveyState.END
        if key is None:
            # No usable answer: nothing is stored, the follow-up engine may try again.
            return SurveyState.END
        self.rating = int(key)
        await self.dialog.note_choice("rating", key)
        return SurveyState.FIXED

    async def ask_fixed(self) -> SurveyState:
        try:
            key = await self.dialog.ask_key(
                Prompt.SURVEY_FIXED, valid="".join(FIXED_KEYS), step="fixed"
            )
            if key is not None:
                self.fixed = FIXED_KEYS[key]
                await self.dialog.note_choice("fixed", key)
        except ChannelHangup:
            self.caller_gone = True
        return SurveyState.STORE

    async def store(self) -> SurveyState:
        assert self.request_code is not None and self.rating is not None
        try:
            await self.backend.record_survey(
                request_code=self.request_code,
                rating=self.rating,
                fixed=self.fixed,
                call_uniqueid=self.channel.uniqueid,
            )
            self.stored = True
        except Exception:
            logger.exception(
                "call %s: storing the survey of %s failed", self.channel.uniqueid, self.request_code
            )
        if self.caller_gone:
            raise ChannelHangup("the caller hung up during the survey (rating stored)")
        await self.channel.play(Prompt.SURVEY_THANKS)
        return SurveyState.END

    async def end(self) -> SurveyState:
        await self.dialog.end(Ending.HANGUP)
        return SurveyState.DONE
