"""The IVR flows' view of the system (``ivr_flows.ports.IvrBackend``) over the store,
the SMS service, the live queue state and the opening hours.

Store work runs in a worker thread (``asyncio.to_thread``): sync sessions must never
block the loop that serves every other call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.calls.queue_state import QueueView
from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import add_event, get_request_by_code, requests_for_phone
from callcenter.citizens.phone import InvalidPhone, mask_phone
from callcenter.citizens.services import get_or_create_citizen
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.models import TaskKind
from callcenter.followups.services import create_task
from callcenter.reference.hours import Hours
from callcenter.reference.models import Department
from callcenter.reference.services import category_by_digit
from callcenter.sms.messages import SmsCatalogue, load_catalogue
from callcenter.sms.service import SmsService
from ivr_flows.ports import RequestSummary

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreIvrBackend:
    """Implements ``IvrBackend`` for the live service."""

    def __init__(
        self,
        *,
        engine: Engine,
        hours: Hours,
        queue_name: str,
        queue_state: QueueView | None = None,
        sms: SmsService | None = None,
        file_request: Callable[..., CitizenRequest] | None = None,
        assume_agents: bool = False,
        catalogue: SmsCatalogue | None = None,
    ) -> None:
        self.engine = engine
        self.hours = hours
        self.queue_name = queue_name
        self.queue_state = queue_state
        self.sms = sms
        self._file_request = file_request or _file_with_intake
        self.assume_agents = assume_agents
        self._catalogue = catalogue or load_catalogue()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def open_requests(self, *, phone: str) -> list[RequestSummary]:
        def work(session: Session) -> list[RequestSummary]:
            try:
                found = requests_for_phone(session=session, phone=phone, only_open=True)
            except InvalidPhone:  # anonymous or foreign caller ID: nothing to tell
                return []
            # every department once, not one query per request (N+1)
            departments = {d.code: d for d in session.exec(select(Department)).all()
                           } if found else {}
            return [_summary(session, r, departments) for r in found]

        return await self._in_session(work)

    async def lookup(self, *, code: str) -> RequestSummary | None:
        def work(session: Session) -> RequestSummary | None:
            try:
                return _summary(session, get_request_by_code(session=session, code=code))
            except NoSuchRequest:
                return None

        return await self._in_session(work)

    async def file_request(
        self, *, phone: str, caller_name: str, category_number: int, recording_path: str,
        call_uniqueid: str,
    ) -> RequestSummary:
        def work(session: Session) -> RequestSummary:
            category = category_by_digit(session=session, digit=category_number)
            request = self._file_request(
                session=session, phone=phone, channel="phone", category_code=category.code,
                citizen_name=caller_name or None, recording_path=recording_path,
                actor="ivr", linkedid=call_uniqueid, calendar=self.hours,
            )
            return _summary(session, request)

        summary = await self._in_session(work)
        log.info("IVR filed request %s for caller %s", summary.code, mask_phone(phone))
        return summary

    async def send_sms_code(self, *, phone: str, code: str) -> None:
        if self.sms is None:
            log.warning("no SMS service configured: tracking code SMS not sent")
            return
        await self.sms.send(to=phone, body=self._catalogue.render("request_filed", code=code))

    async def create_callback(
        self, *, phone: str, call_uniqueid: str, queued_at: datetime, request_code: str | None
    ) -> None:
        def work(session: Session) -> None:
            citizen = get_or_create_citizen(session=session, phone=phone)
            request_id = None
            if request_code:
                try:
                    request = get_request_by_code(session=session, code=request_code)
                    request_id = request.id
                except NoSuchRequest:
                    request_id = None
            create_task(session=session, kind=TaskKind.CALLBACK, citizen_id=citizen.id,
                        request_id=request_id, call_linkedid=call_uniqueid, due_at=queued_at,
                        note="callback requested while queued")

        await self._in_session(work)

    async def agents_available(self) -> bool:
        if self.queue_state is None:  # no live view (classic AGI): let Queue() decide
            return self.assume_agents
        queue = self.queue_state.snapshot().get(self.queue_name) or {}
        return bool(queue) and any(not m["paused"] for m in queue["members"])

    async def is_open_now(self) -> bool:
        return self.hours.is_open(utcnow())

    async def record_survey(
        self, *, request_code: str, rating: int, fixed: bool | None, call_uniqueid: str
    ) -> None:
        def work(session: Session) -> None:
            request = get_request_by_code(session=session, code=request_code)
            request.survey_rating = rating
            request.survey_fixed = fixed
            request.survey_channel = "phone"
            request.survey_at = utcnow()
            session.add(request)
            add_event(session=session, request=request, kind="survey", actor="ivr",
                      channel="phone", data={"rating": rating, "fixed": fixed,
                                             "linkedid": call_uniqueid})

        await self._in_session(work)


    async def opt_out(self, *, request_code: str, call_uniqueid: str) -> None:
        from callcenter.followups.services import opt_out_request_citizen

        def work(session: Session) -> None:
            request = get_request_by_code(session=session, code=request_code)
            opt_out_request_citizen(session=session, request=request, actor="ivr",
                                    channel="phone")

        await self._in_session(work)


def _file_with_intake(**kwargs: Any) -> CitizenRequest:
    """Every channel files through intake (duplicate rule 1, routing, Shahrbin outbox).

    The call is linked to the request when it ends, through ``IVR_REQUEST``.
    """
    from callcenter.intake.services import file_request

    return file_request(**kwargs).request


def _summary(session: Session, request: CitizenRequest,
             departments: dict[str, Department] | None = None) -> RequestSummary:
    department = (departments or {}).get(request.department_code) or session.get(
        Department, request.department_code)
    return RequestSummary(
        code=request.tracking_code,
        status=str(request.status),
        department_code=request.department_code,
        department_fa=department.name_fa if department else request.department_code,
        department_en=department.name_en if department else request.department_code,
        created=request.created_at,
    )
