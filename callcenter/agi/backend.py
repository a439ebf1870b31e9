"""The IVR flows' view of the system (``ivr_flows.ports.IvrBackend``) over the store,
the durable citizen messages, the live queue state and the opening hours.

The tracking-code SMS is a ``citizen_message`` row written in the transaction that files
the request (``file_request``); ``send_sms_code`` only wakes the delivery loop, so a
crash between filing and sending loses nothing.

Store work runs in a worker thread of a bounded pool (``runner``: the app's ``ivr`` pool,
``asyncio.to_thread`` when none is given): sync sessions must never block the loop that
serves every other call, and a burst of calls must not run more store threads at once
than the pool has (they would fight the loop for the GIL and delay every AGI answer).
Lookups read in a read-only unit (``read_scope``): on SQLite they never wait for the
write lock that call records and filings take.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from callcenter.calls.queue_state import QueueView
from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import add_event, get_request_by_code, requests_for_phone
from callcenter.citizens.models import Citizen
from callcenter.citizens.phone import InvalidPhone, mask_phone
from callcenter.citizens.services import find_citizen, get_or_create_citizen
from callcenter.clock import utcnow
from callcenter.db.engine import read_scope, session_scope
from callcenter.followups.models import TaskKind
from callcenter.followups.services import create_task
from callcenter.intake.services import IntakeResult
from callcenter.messages.models import MessageKind
from callcenter.reference.hours import Hours
from callcenter.reference.models import Department, Neighbourhood
from callcenter.reference.services import category_by_digit
from callcenter.sms.messages import SmsCatalogue, load_catalogue
from callcenter.sms.notify import queue_sms
from ivr_flows.ports import KnownPlace, RequestSummary

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
        wake_messages: Callable[[], None] | None = None,
        file_request: Callable[..., IntakeResult] | None = None,
        assume_agents: bool = False,
        catalogue: SmsCatalogue | None = None,
        runner: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
    ) -> None:
        self.engine = engine
        self.hours = hours
        self.queue_name = queue_name
        self.queue_state = queue_state
        self.wake_messages = wake_messages
        self._file_request = file_request or _file_with_intake
        self.assume_agents = assume_agents
        self._catalogue = catalogue or load_catalogue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._run: Callable[[Callable[[], Any]], Awaitable[Any]] = runner or asyncio.to_thread

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        result: T = await self._run(run)
        return result

    async def _reading(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with read_scope(self.engine) as session:
                return work(session)

        result: T = await self._run(run)
        return result

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

        return await self._reading(work)

    async def lookup(self, *, code: str) -> RequestSummary | None:
        def work(session: Session) -> RequestSummary | None:
            try:
                return _summary(session, get_request_by_code(session=session, code=code))
            except NoSuchRequest:
                return None

        return await self._reading(work)

    async def file_request(
        self, *, phone: str, caller_name: str, category_number: int, recording_path: str,
        call_uniqueid: str, district: int | None = None, neighbourhood_code: str | None = None,
    ) -> RequestSummary:
        def work(session: Session) -> RequestSummary:
            category = category_by_digit(session=session, digit=category_number)
            result = self._file_request(
                session=session, phone=phone, channel="phone", category_code=category.code,
                citizen_name=caller_name or None, recording_path=recording_path,
                actor="ivr", linkedid=call_uniqueid, district=district,
                neighbourhood_code=neighbourhood_code, calendar=self.hours,
            )
            request = result.request
            key = "repeat_contact" if result.repeat_of else "request_filed"
            citizen = session.get(Citizen, request.citizen_id)
            assert citizen is not None and citizen.phone is not None  # filed by phone
            # One message per call: the same call filed twice (a retried AGI) queues once.
            queue_sms(session=session, to=citizen.phone, request_id=request.id,
                      body=self._catalogue.render(key, code=request.tracking_code),
                      kind=MessageKind.REPEAT_CONTACT if result.repeat_of
                      else MessageKind.REQUEST_FILED,
                      dedupe_key=f"ivr:{call_uniqueid}" if call_uniqueid else None)
            return replace(_summary(session, request), repeat=result.repeat_of)

        summary = await self._in_session(work)
        log.info("IVR filed request %s for caller %s", summary.code, mask_phone(phone))
        return summary

    async def known_place(self, *, phone: str) -> KnownPlace | None:
        def work(session: Session) -> KnownPlace | None:
            try:
                citizen = find_citizen(session=session, phone=phone)
            except InvalidPhone:
                return None
            if citizen is None:
                return None
            codes = session.exec(
                select(CitizenRequest.neighbourhood_code).distinct()
                .where(CitizenRequest.citizen_id == citizen.id)
                .where(col(CitizenRequest.neighbourhood_code).is_not(None)).limit(2)
            ).all()
            if len(codes) != 1 or codes[0] is None:
                return None
            hood = session.get(Neighbourhood, codes[0])
            return KnownPlace(neighbourhood_code=hood.code, district=hood.district
                              ) if hood else None

        return await self._in_session(work)

    async def send_sms_code(self, *, phone: str, code: str) -> None:
        """The SMS was queued with the request (``file_request``): send it now."""
        if self.wake_messages is not None:
            self.wake_messages()

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


def _file_with_intake(**kwargs: Any) -> IntakeResult:
    """Every channel files through intake (duplicate rule 1, routing, Shahrbin outbox).

    The call is linked to the request when it ends, through ``IVR_REQUEST``.
    """
    from callcenter.intake.services import file_request

    return file_request(**kwargs)


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
