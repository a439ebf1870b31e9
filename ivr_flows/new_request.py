"""Menu 1: a new request by voice message, as a state machine.

category -> place -> record -> file -> read back (+ SMS) -> done.

The place step asks where the problem is: a caller whose earlier requests name one
neighbourhood hears it and presses 1 to confirm (2 or nothing: the district menu);
otherwise one key for the municipal district, ``0`` for "don't know". A caller who
keys nothing there still records: the place is then left to triage.

Once the caller has recorded, the request is theirs: a hangup during the
recording or the read-back still files it and still sends the SMS, and only
then lets :class:`~ivr_flows.channel.ChannelHangup` end the session.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum

from ivr_flows.channel import ChannelHangup, RecordResult
from ivr_flows.dialog import Dialog, Ending
from ivr_flows.machine import run_machine
from ivr_flows.ports import IvrBackend, KnownPlace, RequestSummary
from ivr_flows.prompts import Prompt, hood_prompt

__all__ = ["NewRequestFlow", "NewRequestState"]

logger = logging.getLogger(__name__)

CATEGORY_KEYS = "123456"
DONT_KNOW_KEY = "0"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class NewRequestState(StrEnum):
    CATEGORY = "category"
    PLACE = "place"
    RECORD = "record"
    FILE = "file"
    READ_BACK = "read_back"
    DONE = "done"


class NewRequestFlow:
    """One caller filing one request; :meth:`run` returns how the call goes on."""

    def __init__(self, *, dialog: Dialog, backend: IvrBackend, can_queue: bool) -> None:
        self.dialog = dialog
        self.channel = dialog.channel
        self.config = dialog.config
        self.backend = backend
        self.can_queue = can_queue
        self.ending = Ending.HANGUP
        self.category: int | None = None
        self.district: int | None = None
        self.neighbourhood_code: str | None = None
        self.recording: RecordResult | None = None
        self.filed: RequestSummary | None = None
        self.caller_gone = False
        self.trace: list[NewRequestState] = []

    async def run(self) -> Ending:
        """Walk the states; raises ``ChannelHangup`` when the caller left (after filing)."""
        self.trace = await run_machine(
            steps={
                NewRequestState.CATEGORY: self.choose_category,
                NewRequestState.PLACE: self.choose_place,
                NewRequestState.RECORD: self.record,
                NewRequestState.FILE: self.file,
                NewRequestState.READ_BACK: self.read_back,
            },
            start=NewRequestState.CATEGORY,
            final={NewRequestState.DONE},
            max_steps=self.config.max_steps,
            call_id=self.channel.uniqueid,
        )
        if self.caller_gone:
            raise ChannelHangup("the caller hung up after recording (request filed)")
        return self.ending

    def recording_base(self) -> str:
        """Where Asterisk writes the recording, without extension."""
        name = _UNSAFE.sub("_", self.channel.uniqueid) or "unknown"
        return str(self.config.recordings_dir / f"request-{name}")

    async def choose_category(self) -> NewRequestState:
        key = await self.dialog.ask_key(
            Prompt.MENU_CATEGORIES, valid=CATEGORY_KEYS, step="category"
        )
        if key is None:
            await self.channel.play(Prompt.TOO_MANY_TRIES)
            self.ending = Ending.QUEUE if self.can_queue else Ending.HANGUP
            return NewRequestState.DONE
        self.category = int(key)
        await self.dialog.note_choice("category", key)
        return NewRequestState.PLACE

    async def choose_place(self) -> NewRequestState:
        known = await self._known_place()
        if known is not None:
            await self.channel.play(Prompt.PLACE_KNOWN)
            await self.channel.play(hood_prompt(known.neighbourhood_code))
            key = await self.dialog.ask_key(Prompt.PLACE_CONFIRM, valid="12", step="place")
            if key == "1":
                self.neighbourhood_code, self.district = known.neighbourhood_code, known.district
                await self.dialog.note_choice("place", key)
                return NewRequestState.RECORD
            if key == "2":
                await self.dialog.note_choice("place", key)
        districts = self.config.districts
        if not districts:
            return NewRequestState.RECORD
        valid = "".join(str(d) for d in districts) + DONT_KNOW_KEY
        key = await self.dialog.ask_key(Prompt.MENU_DISTRICTS, valid=valid, step="district")
        if key is not None:
            self.district = int(key) if key != DONT_KNOW_KEY else None
            await self.dialog.note_choice("district", key)
        return NewRequestState.RECORD

    async def _known_place(self) -> KnownPlace | None:
        if not any(ch.isdigit() for ch in self.channel.caller):
            return None
        try:
            return await self.backend.known_place(phone=self.channel.caller)
        except Exception:  # never lose the caller over a hint
            logger.exception("call %s: looking up the caller's place failed",
                             self.channel.uniqueid)
            return None

    async def record(self) -> NewRequestState:
        await self.channel.play(Prompt.RECORD_INSTRUCTIONS)
        self.recording = await self.channel.record(
            self.recording_base(),
            max_seconds=self.config.record_max_seconds,
            terminator="#",
            beep=True,
            fmt=self.config.record_format,
        )
        if self.recording.reason == "hangup":
            # The file is complete up to the hangup; the channel is dead from here on.
            self.caller_gone = True
        else:
            await self.dialog.note("recorded")
        return NewRequestState.FILE

    async def file(self) -> NewRequestState:
        assert self.category is not None and self.recording is not None
        try:
            self.filed = await self.backend.file_request(
                phone=self.channel.caller,
                caller_name=self.channel.caller_name,
                category_number=self.category,
                recording_path=f"{self.recording.path}.{self.config.record_format}",
                call_uniqueid=self.channel.uniqueid,
                district=self.district,
                neighbourhood_code=self.neighbourhood_code,
            )
        except Exception:
            logger.exception("call %s: filing the request failed", self.channel.uniqueid)
            if not self.caller_gone:
                await self.channel.play(Prompt.TECHNICAL_ERROR)
                self.ending = Ending.QUEUE if self.can_queue else Ending.HANGUP
            return NewRequestState.DONE
        logger.info("call %s: filed request %s", self.channel.uniqueid, self.filed.code)
        return NewRequestState.READ_BACK

    async def read_back(self) -> NewRequestState:
        assert self.filed is not None
        code = self.filed.code
        has_number = any(ch.isdigit() for ch in self.channel.caller)
        if not self.caller_gone:
            try:
                # IVR_REQUEST links the call record to the new case.
                await self.channel.set_variable("IVR_REQUEST", code)
                if self.filed.repeat:  # rule 1: the same citizen's open request
                    await self.dialog.note("added")
                    await self.channel.play(Prompt.REQUEST_ADDED)
                else:
                    await self.dialog.note("filed")
                    await self.channel.play(Prompt.REQUEST_FILED)
                    await self.channel.play(Prompt.YOUR_CODE_IS)
                await self.channel.say_digits(code)
                if has_number:
                    await self.channel.play(Prompt.SMS_SENT)
            except ChannelHangup:
                self.caller_gone = True
        if not has_number:
            logger.info("call %s: no caller number, no SMS for %s", self.channel.uniqueid, code)
        else:
            await self._send_sms(code)
        self.ending = Ending.HANGUP
        return NewRequestState.DONE

    async def _send_sms(self, code: str) -> None:
        try:
            await self.backend.send_sms_code(phone=self.channel.caller, code=code)
        except Exception:
            logger.exception("call %s: SMS of code %s failed", self.channel.uniqueid, code)
