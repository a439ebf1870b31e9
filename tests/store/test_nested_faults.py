"""Issue 21, the other half: an error inside a service's nested block undoes only that
block. The session's earlier work (another citizen's filing, with its history and outbox
item) survives and commits; what the failed block inserted is gone.

Two kinds of error: a ``Fault`` planted right after the block's INSERT reached the
database (every service), and the real conflict each block exists for (a taken tracking
code, username, SMS id, survey key).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from nested_support import Fault, abandoned_call, counts, fault_after_insert, sms_report
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.callrecords.models import Call
from callcenter.callrecords.services import record_call
from callcenter.cases import services as case_services
from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import create_request
from callcenter.cases.tracking import generate_code
from callcenter.citizens.models import Citizen
from callcenter.citizens.services import get_or_create_citizen
from callcenter.errors import Conflict
from callcenter.followups.models import Task, TaskKind
from callcenter.followups.surveys import schedule_surveys, survey_key
from callcenter.intake.services import file_request
from callcenter.sms.inbound import handle_inbound
from callcenter.sms.messages import load_catalogue
from callcenter.sms.models import SmsDirection, SmsMessage, SmsStatus
from callcenter.users.models import User
from callcenter.users.services import create_user

OUTER_PHONE = "09135559999"
CATALOGUE = load_catalogue()


def file_outer(session: Session) -> CitizenRequest:
    """The work the session did before the failing block: a whole filing."""
    return file_request(session=session, phone=OUTER_PHONE, channel="web",
                        category_code="parks", description="فواره خراب").request


FAULTS: dict[str, tuple[type[Any], Callable[[Session], object], dict[str, int]]] = {
    # name: (model whose INSERT faults, the work, rows that survive beside the outer work)
    "citizens.get_or_create_citizen": (
        Citizen, lambda s: get_or_create_citizen(session=s, phone="09135550001"), {}),
    "cases.create_request": (
        CitizenRequest, lambda s: create_request(session=s, phone="09135550002",
                                                 channel="phone", category_code="streets"),
        {"citizen": 1}),  # the citizen's own nested block had finished
    "calls.record_call": (
        Call, lambda s: record_call(session=s, ended=abandoned_call()), {"citizen": 1}),
    "users.create_user": (
        User, lambda s: create_user(session=s, username="agent7", password="long-enough-1",
                                    role="agent", extension="2107"), {}),
    "sms.handle_inbound": (
        SmsMessage, lambda s: handle_inbound(session=s, sms=sms_report(),
                                             catalogue=CATALOGUE), {}),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_inside_nested_block_keeps_the_outer_work(engine: Engine, name: str) -> None:
    """Tried: a filing, then the service with its nested INSERT failing; the caller goes
    on and commits. Expect the filing (request, events, outbox) and nothing of the block."""
    model, work, survivors = FAULTS[name]
    with Session(engine) as session:
        file_outer(session)
        session.flush()
        outer = counts(session)
        with fault_after_insert(model), pytest.raises(Fault):
            work(session)
        session.commit()
    expected = {table: rows + survivors.get(table, 0) for table, rows in outer.items()}
    assert counts(engine) == expected
    assert outer["crm_outbox"] == 1 and outer["request_event"] == 2


def test_taken_tracking_code_is_retried_inside_the_filing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: the code generator hands out the outer request's code first. Expect the
    clash undone (savepoint), a second code used, both filings whole after commit."""
    with Session(engine, expire_on_commit=False) as session:
        outer = file_outer(session)
        codes = iter([outer.tracking_code, generate_code()])
        monkeypatch.setattr(case_services, "generate_code", lambda: next(codes))
        second = create_request(session=session, phone="09135550002", channel="phone",
                                category_code="streets")
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(CitizenRequest.tracking_code)).all()
    assert sorted(stored) == sorted([outer.tracking_code, second.tracking_code])
    assert counts(engine)["request_event"] == 4  # created + referred, twice


def test_taken_username_keeps_the_outer_work(engine: Engine) -> None:
    """Tried: a second ``agent7`` in a session that filed a request first. Expect
    ``Conflict``, the filing committed, one ``agent7``."""
    with Session(engine) as session:
        create_user(session=session, username="agent7", password="long-enough-1",
                    role="agent", extension="2107")
        session.commit()
        file_outer(session)
        with pytest.raises(Conflict):
            create_user(session=session, username="agent7", password="long-enough-2",
                        role="agent", extension="2108")
        session.commit()
    rows = counts(engine)
    assert (rows["staff_user"], rows["citizen_request"], rows["crm_outbox"]) == (1, 1, 1)


def test_same_sms_twice_keeps_the_outer_work(engine: Engine) -> None:
    """Tried: an SMS whose id is already stored (the same webhook, concurrently) in a
    session that filed a request first. Expect a silent replay and the filing kept."""
    sms = sms_report()
    with Session(engine) as session:
        session.add(SmsMessage(direction=SmsDirection.INBOUND, to_phone="+98137",
                               from_phone="+989135550022", body=sms.body,
                               status=SmsStatus.RECEIVED, twilio_sid=sms.message_sid))
        session.commit()
        file_outer(session)
        outcome = handle_inbound(session=session, sms=sms, catalogue=CATALOGUE)
        session.commit()
    assert (outcome.kind, outcome.reply) == ("replay", "")
    rows = counts(engine)
    assert (rows["sms_message"], rows["citizen_request"], rows["crm_outbox"]) == (1, 1, 1)


def test_survey_already_scheduled_elsewhere_keeps_the_other_surveys(engine: Engine) -> None:
    """Tried: two resolutions, another instance already wrote the first one's survey
    (same dedupe key). Expect that clash skipped and the second survey scheduled."""
    with Session(engine, expire_on_commit=False) as session:
        first, second = (file_request(session=session, phone=phone, channel="web",
                                      category_code="parks").request
                         for phone in ("09135550006", "09135550007"))
        for request in (first, second):
            case_services.change_status(session=session, request=request,
                                        to_status="resolved", actor="dept")
        session.flush()
        assert first.id is not None and first.resolved_at is not None
        key = survey_key(TaskKind.SURVEY_SMS, first.id, first.resolved_at)
        session.add(Task(kind=TaskKind.SURVEY_SMS, request_id=first.id, dedupe_key=key,
                         created_at=first.resolved_at - timedelta(seconds=1)))
        session.commit()
        now = first.resolved_at + timedelta(minutes=5)
        made = schedule_surveys(session=session, now=now, delay=timedelta(hours=1),
                                lookback=timedelta(days=1))
    with Session(engine) as session:
        surveyed = sorted(t.request_id or 0 for t in session.exec(select(Task)).all())
    assert made == 1
    assert surveyed == sorted([first.id, second.id or 0])
