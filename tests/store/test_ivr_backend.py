"""The IVR's backend over the real store (both backends): what the 137 flows see."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.agi.backend import StoreIvrBackend
from callcenter.calls.queue_state import QueueState
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.followups.models import Task
from callcenter.messages.delivery import MessageDelivery
from callcenter.messages.models import CitizenMessage
from callcenter.reference.hours import Holidays, Hours
from callcenter.sms.channel import SmsChannel
from callcenter.sms.models import SmsMessage


class CapturingTransport:
    """The provider edge: the real SMS service stores every message; this keeps a copy."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_once(self, *, to: str, body: str) -> str:
        self.sent.append((to, body))
        return f"SM{len(self.sent)}"


def backend(engine: Engine, **kw: object) -> StoreIvrBackend:
    hours = Hours(zone=ZoneInfo("Asia/Tehran"), opens=time(0), closes=time(23, 59),
                  holidays=Holidays(yearly=frozenset(), dated=frozenset()), open_on_friday=True)
    return StoreIvrBackend(engine=engine, hours=hours, queue_name="citizen-requests",
                           **kw)  # type: ignore[arg-type]


def test_file_lookup_and_open_requests(engine: Engine) -> None:
    sms = CapturingTransport()
    woken: list[bool] = []
    ivr = backend(engine, wake_messages=lambda: woken.append(True))
    delivery = MessageDelivery(engine=engine, channels={
        "sms": SmsChannel(transport=sms, from_number="+98137")})

    async def scenario() -> None:
        filed = await ivr.file_request(phone="09131234567", caller_name="", category_number=3,
                                       recording_path="/rec/request-1.wav",
                                       call_uniqueid="1700.1")
        assert (filed.status, filed.department_code) == ("referred", "parks")
        assert await ivr.lookup(code=filed.code) == filed
        assert await ivr.lookup(code="12345678") is None
        assert [r.code for r in await ivr.open_requests(phone="+989131234567")] == [filed.code]
        assert await ivr.open_requests(phone="anonymous") == []
        assert sms.sent == []  # queued with the request, not sent yet
        await ivr.send_sms_code(phone="09131234567", code=filed.code)
        assert woken == [True]
        assert len((await delivery.deliver_due()).sent) == 1

    asyncio.run(scenario())
    with Session(engine) as session:
        request = session.exec(select(CitizenRequest)).one()
        assert (request.channel, request.category_code, request.recording_path) == (
            "phone", "parks", "/rec/request-1.wav")
    persian_code = request.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert sms.sent[0][0] == "+989131234567" and persian_code in sms.sent[0][1]
    assert "ثبت شد" in sms.sent[0][1]
    with Session(engine) as session:
        message = session.exec(select(CitizenMessage)).one()
        assert (message.state, message.kind, message.attempts) == ("sent", "request_filed", 1)
        logged = session.exec(select(SmsMessage)).one()  # the SMS log keeps it too
        assert (logged.status, logged.request_id) == ("sent", request.id)


def test_same_problem_twice_is_one_request(engine: Engine) -> None:
    ivr = backend(engine)

    async def scenario() -> tuple[str, str]:
        a = await ivr.file_request(phone="09131234567", caller_name="", category_number=1,
                                   recording_path="/rec/a.wav", call_uniqueid="1")
        b = await ivr.file_request(phone="09131234567", caller_name="", category_number=1,
                                   recording_path="/rec/b.wav", call_uniqueid="2")
        return a.code, b.code

    first, second = asyncio.run(scenario())
    assert first == second
    with Session(engine) as session:
        texts = [m.body for m in session.exec(
            select(CitizenMessage).order_by(CitizenMessage.id)).all()]  # type: ignore[arg-type]
    persian = first.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert "ثبت شد" in texts[0] and "افزوده شد" not in texts[0]
    assert "افزوده شد" in texts[1] and persian in texts[1]  # "added to your request CODE"


def test_a_repeat_report_is_told_as_added(engine: Engine) -> None:
    ivr = backend(engine)

    async def scenario() -> tuple[bool, bool]:
        a = await ivr.file_request(phone="09131234567", caller_name="", category_number=2,
                                   recording_path="/rec/a.wav", call_uniqueid="11")
        b = await ivr.file_request(phone="09131234567", caller_name="", category_number=2,
                                   recording_path="/rec/b.wav", call_uniqueid="12")
        return a.repeat, b.repeat

    assert asyncio.run(scenario()) == (False, True)


def test_the_same_call_filed_twice_queues_one_sms(engine: Engine) -> None:
    ivr = backend(engine)

    async def scenario() -> None:
        for _ in range(2):  # an AGI session retried with the same uniqueid
            await ivr.file_request(phone="09131234567", caller_name="", category_number=4,
                                   recording_path="/rec/a.wav", call_uniqueid="21")

    asyncio.run(scenario())
    with Session(engine) as session:
        assert len(session.exec(select(CitizenMessage)).all()) == 1


def test_callback_keeps_the_callers_place(engine: Engine) -> None:
    ivr = backend(engine)
    queued = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    asyncio.run(ivr.create_callback(phone="09131234567", call_uniqueid="1700.5",
                                    queued_at=queued, request_code=None))
    with Session(engine) as session:
        task = session.exec(select(Task)).one()
    assert (task.kind, task.due_at, task.call_linkedid) == ("callback", queued, "1700.5")


def test_survey_answer_is_stored_with_history(engine: Engine) -> None:
    ivr = backend(engine)

    async def scenario() -> str:
        filed = await ivr.file_request(phone="09131234567", caller_name="", category_number=2,
                                       recording_path="/r.wav", call_uniqueid="9")
        await ivr.record_survey(request_code=filed.code, rating=4, fixed=False,
                                call_uniqueid="10")
        return filed.code

    code = asyncio.run(scenario())
    with Session(engine) as session:
        request = session.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == code)).one()
        kinds = [e.kind for e in session.exec(select(RequestEvent).where(
            RequestEvent.request_id == request.id)).all()]
    assert (request.survey_rating, request.survey_fixed, request.survey_channel) == (
        4, False, "phone")
    assert "survey" in kinds


def test_the_survey_calls_opt_out_key_opts_the_citizen_out(engine: Engine) -> None:
    from callcenter.citizens.models import Citizen

    ivr = backend(engine)

    async def scenario() -> str:
        filed = await ivr.file_request(phone="09131234567", caller_name="", category_number=2,
                                       recording_path="/r.wav", call_uniqueid="11")
        await ivr.opt_out(request_code=filed.code, call_uniqueid="12")
        return filed.code

    code = asyncio.run(scenario())
    with Session(engine) as session:
        request = session.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == code)).one()
        citizen = session.get(Citizen, request.citizen_id)
        kinds = [e.kind for e in session.exec(select(RequestEvent).where(
            RequestEvent.request_id == request.id)).all()]
    assert citizen is not None and citizen.opted_out and "opt_out" in kinds


@pytest.mark.parametrize(("members", "expected"), [
    ([], False),
    ([("PJSIP/2101", "1")], False),
    ([("PJSIP/2101", "1"), ("PJSIP/2102", "0")], True),
])
def test_agents_available_from_live_queue_state(
    engine: Engine, members: list[tuple[str, str]], expected: bool
) -> None:
    state = QueueState()
    for interface, paused in members:
        state.feed({"Event": "QueueMemberAdded", "Queue": "citizen-requests",
                    "Interface": interface, "MemberName": interface,
                    "StateInterface": interface, "Paused": paused, "Status": "1"})
    assert asyncio.run(backend(engine, queue_state=state).agents_available()) is expected
    assert asyncio.run(backend(engine).agents_available()) is False
    assert asyncio.run(backend(engine, assume_agents=True).agents_available()) is True
