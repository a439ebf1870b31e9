"""Triage and edits over the real store (SQLite and PostgreSQL): which requests become a
triage task, the one form that completes them (re-routing, history, Shahrbin outbox,
triage time), the version check, bad input, and the IVR's known place (issue 16)."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.agi.backend import StoreIvrBackend
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.errors import InvalidInput
from callcenter.followups.models import Task, TaskKind, TaskState
from callcenter.intake.classify import classify_text
from callcenter.intake.services import file_request
from callcenter.intake.triage import (
    Edit,
    StaleVersion,
    add_note,
    change_status_checked,
    edit_request,
)
from callcenter.outbox.models import OutboxItem
from callcenter.reference.hours import Holidays, Hours

PHONE = "09131234567"


def backend(engine: Engine) -> StoreIvrBackend:
    hours = Hours(zone=ZoneInfo("Asia/Tehran"), opens=time(0), closes=time(23, 59),
                  holidays=Holidays(yearly=frozenset(), dated=frozenset()), open_on_friday=True)
    return StoreIvrBackend(engine=engine, hours=hours, queue_name="citizen-requests")


def voice(session: Session, **kw: object) -> CitizenRequest:
    values: dict[str, object] = {"phone": PHONE, "channel": "phone", "category_code": "waste",
                                 "recording_path": "/rec/request-1.wav", "actor": "ivr"}
    values.update(kw)
    request = file_request(session=session, **values).request  # type: ignore[arg-type]
    session.commit()
    return request


def triage_tasks(session: Session) -> list[Task]:
    return list(session.exec(select(Task).where(Task.kind == TaskKind.TRIAGE)).all())


def test_voice_without_place_or_text_becomes_one_triage_task(session: Session) -> None:
    request = voice(session, district=3)
    assert request.district == 3 and request.neighbourhood_code is None
    [task] = triage_tasks(session)
    assert (task.request_id, task.state, task.citizen_id) == (
        request.id, TaskState.PENDING, request.citizen_id)
    # a second report of the same problem lands on the same request: no second task
    voice(session)
    assert len(triage_tasks(session)) == 1


def test_complete_requests_need_no_triage(session: Session) -> None:
    voice(session, neighbourhood_code="fahadan", description="کیسه‌های زباله")
    file_request(session=session, phone="09130000001", channel="walk_in",
                 category_code="parks", description="درخت افتاده")
    session.commit()
    assert triage_tasks(session) == []


def test_flagged_requests_need_triage(session: Session) -> None:
    file_request(session=session, phone=PHONE, channel="sms", category_code="other",
                 description="سلام", needs_triage=True)
    session.commit()
    assert len(triage_tasks(session)) == 1


def test_triage_reroutes_writes_history_tells_shahrbin_and_stores_triage_time(
    session: Session,
) -> None:
    request = voice(session)
    before_deadline = request.deadline_at
    changes = edit_request(session=session, request=request, actor="ali", triage=True,
                           edit=Edit(version=request.version, category_code="traffic",
                                     neighbourhood_code="safaieh", landmark="کنار مسجد",
                                     description="چراغ خاموش"))
    session.commit()
    session.refresh(request)
    assert (request.category_code, request.department_code) == ("traffic", "traffic")
    assert request.deadline_at is not None and before_deadline is not None
    assert request.deadline_at - request.triaged_at <= timedelta(hours=48)  # type: ignore[operator]
    assert request.deadline_at != before_deadline
    assert (request.neighbourhood_code, request.landmark, request.description) == (
        "safaieh", "کنار مسجد", "چراغ خاموش")
    assert request.needs_triage is False and request.triaged_at is not None
    assert set(changes) >= {"category_code", "department_code", "neighbourhood_code",
                            "landmark", "description", "triaged"}
    kinds = [e.kind for e in session.exec(select(RequestEvent).where(
        RequestEvent.request_id == request.id).order_by(RequestEvent.id)).all()]  # type: ignore[arg-type]
    assert kinds[-2:] == ["rerouted", "edited"]
    [update] = session.exec(select(OutboxItem).where(
        OutboxItem.kind == "request_updated")).all()
    assert update.payload["request"]["department_code"] == "traffic"
    assert update.payload["request"]["landmark"] == "کنار مسجد"
    [task] = triage_tasks(session)
    assert task.state == TaskState.DONE and task.result is not None
    assert task.result["triage_seconds"] >= 0 and task.result["closed_by"] == "ali"


def test_a_stale_edit_is_a_conflict_and_changes_nothing(session: Session) -> None:
    request = voice(session)
    loaded = request.version
    edit_request(session=session, request=request, actor="ali",
                 edit=Edit(version=loaded, description="اول"))
    session.commit()
    outbox_before = len(session.exec(select(OutboxItem)).all())
    with pytest.raises(StaleVersion) as caught:
        edit_request(session=session, request=request, actor="reza",
                     edit=Edit(version=loaded, category_code="parks", description="دوم"))
    session.rollback()
    assert caught.value.status_code == 409
    session.refresh(request)
    assert (request.description, request.category_code) == ("اول", "waste")
    assert len(session.exec(select(OutboxItem)).all()) == outbox_before
    with pytest.raises(StaleVersion):
        change_status_checked(session=session, request=request, version=loaded,
                              to_status="in_progress", actor="reza")
    session.rollback()
    session.refresh(request)
    assert request.status == "referred"
    change_status_checked(session=session, request=request, version=request.version,
                          to_status="in_progress", actor="reza")
    session.commit()
    assert request.status == "in_progress"


def test_two_sessions_saving_the_same_version_one_wins(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        request = voice(s)
        code, version = request.tracking_code, request.version
    with Session(engine) as first:
        mine = first.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == code)).one()
        edit_request(session=first, request=mine, actor="ali",
                     edit=Edit(version=version, description="علی"))
        first.commit()
    with Session(engine) as second:
        theirs = second.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == code)).one()
        with pytest.raises(StaleVersion):
            edit_request(session=second, request=theirs, actor="reza",
                         edit=Edit(version=version, description="رضا"))
        second.rollback()
    with Session(engine) as check:
        assert check.exec(select(CitizenRequest.description)).one() == "علی"


@pytest.mark.parametrize("edit", [
    Edit(version=0, category_code="nope"),
    Edit(version=0, neighbourhood_code="atlantis"),
    Edit(version=0, landmark="x" * 301),
])
def test_unknown_category_or_neighbourhood_is_refused_and_changes_nothing(
    session: Session, edit: Edit
) -> None:
    request = voice(session)
    edit.version = request.version
    with pytest.raises(InvalidInput):
        edit_request(session=session, request=request, edit=edit, actor="ali", triage=True)
    session.rollback()
    session.refresh(request)
    assert request.category_code == "waste" and request.triaged_at is None
    assert triage_tasks(session)[0].state == TaskState.PENDING


def test_a_note_goes_on_the_timeline(session: Session) -> None:
    request = voice(session)
    add_note(session=session, request=request, actor="ali", note="  تماس گرفتم  ")
    session.commit()
    last = session.exec(select(RequestEvent).order_by(RequestEvent.id.desc())  # type: ignore[union-attr]
                        ).first()
    assert last is not None and (last.kind, last.note, last.actor) == ("note", "تماس گرفتم", "ali")
    with pytest.raises(InvalidInput):
        add_note(session=session, request=request, actor="ali", note="   ")


def test_known_place_is_the_one_neighbourhood_of_earlier_requests(engine: Engine) -> None:
    ivr = backend(engine)
    with Session(engine, expire_on_commit=False) as s:
        assert asyncio.run(ivr.known_place(phone=PHONE)) is None
        voice(s, neighbourhood_code="safaieh")
        place = asyncio.run(ivr.known_place(phone="+98 913 123 4567"))
        assert place is not None and (place.neighbourhood_code, place.district) == (
            "safaieh", 2)
        file_request(session=s, phone=PHONE, channel="walk_in", category_code="parks",
                     neighbourhood_code="fahadan")
        s.commit()
        assert asyncio.run(ivr.known_place(phone=PHONE)) is None  # two places: ask
    assert asyncio.run(ivr.known_place(phone="anonymous")) is None


def test_ivr_filing_keeps_the_district_and_the_confirmed_neighbourhood(engine: Engine) -> None:
    ivr = backend(engine)
    filed = asyncio.run(ivr.file_request(
        phone=PHONE, caller_name="", category_number=2, recording_path="/rec/r.wav",
        call_uniqueid="1700.9", district=1, neighbourhood_code="fahadan"))
    with Session(engine) as s:
        request = s.exec(select(CitizenRequest).where(
            CitizenRequest.tracking_code == filed.code)).one()
        assert (request.district, request.neighbourhood_code) == (1, "fahadan")


@pytest.mark.parametrize(("text", "expected"), [
    ("زباله", "waste"), ("زباله‌ها جمع نشده", "waste"), ("زبالـه", "waste"),
    ("پياده‌رو خراب است", "streets"),  # Arabic yeh
    ("GARBAGE everywhere", "waste"), ("cabinet", None),
    ("سلام خسته نباشید", None), ("", None),
    ("زباله کنار درخت", None),  # one word of two categories: a person decides
])
def test_classify_text(text: str, expected: str | None) -> None:
    keywords = {"waste": ["زباله", "garbage", "bin"], "streets": ["پیاده‌رو"],
                "parks": ["درخت"], "other": []}
    assert classify_text(text, keywords) == expected


def test_a_confirmed_duplicate_can_be_undone(session: Session) -> None:
    from callcenter.intake.duplicates import confirm_duplicate, undo_duplicate
    from callcenter.intake.exceptions import SuggestionDecided
    from callcenter.intake.models import DuplicateSuggestion

    first = file_request(session=session, phone="09130000001", channel="web",
                         category_code="parks", neighbourhood_code="fahadan").request
    second = file_request(session=session, phone="09130000002", channel="web",
                          category_code="parks", neighbourhood_code="fahadan")
    session.commit()
    [suggestion] = second.suggestions
    assert suggestion.id is not None
    with pytest.raises(SuggestionDecided):  # nothing confirmed yet
        undo_duplicate(session=session, suggestion_id=suggestion.id, actor="sara")
    session.rollback()
    confirm_duplicate(session=session, suggestion_id=suggestion.id, actor="sara")
    session.commit()
    assert (second.request.status, first.reporter_count) == ("duplicate", 2)
    version = second.request.version
    undone = undo_duplicate(session=session, suggestion_id=suggestion.id, actor="sara")
    session.commit()
    session.refresh(first)
    assert (undone.status, undone.duplicate_of_id, first.reporter_count) == (
        "referred", None, 1)
    assert undone.version > version
    assert session.get(DuplicateSuggestion, suggestion.id).state == "dismissed"  # type: ignore[union-attr]
    kinds = [e.kind for e in session.exec(select(RequestEvent).where(
        RequestEvent.request_id == first.id)).all()]
    assert "duplicate_unlinked" in kinds
    statuses = [i for i in session.exec(select(OutboxItem).where(
        OutboxItem.request_id == undone.id)).all() if i.kind == "status_changed"]
    assert statuses[-1].payload["request"]["status"] == "referred"
    with pytest.raises(SuggestionDecided):
        undo_duplicate(session=session, suggestion_id=suggestion.id, actor="sara")


async def test_shahrbin_receives_the_reroute_through_the_outbox(engine: Engine) -> None:
    """The triage edit's ``request_updated`` item reaches the peer at
    /requests/{code}/updates with the new department, region, district and landmark."""
    import httpx
    from support.fake_shahrbin import Answer, RecordingServer

    from callcenter.settings import Settings
    from crm_bridge.config import load_shahrbin_config
    from crm_bridge.deliverer import OutboxDeliverer

    with Session(engine, expire_on_commit=False) as s:
        request = voice(s, district=2)
        edit_request(session=s, request=request, actor="ali", triage=True, edit=Edit(
            version=request.version, category_code="traffic", neighbourhood_code="safaieh",
            landmark="کنار مسجد", description="چراغ"))
        s.commit()
    with RecordingServer([Answer(201, {"ok": True})] * 3) as server:
        async with httpx.AsyncClient(timeout=2) as http:
            deliverer = OutboxDeliverer(
                engine=engine, token="t",
                config=load_shahrbin_config(Settings(shahrbin_base_url=server.url + "/api")),
                http=http, max_attempts=3, base_backoff_seconds=5, max_backoff_seconds=20)
            await deliverer.deliver_due()  # the filing first: one item per request at a time
            await deliverer.deliver_due()
    with Session(engine) as s:
        errors = [(i.kind, i.state, i.last_error) for i in s.exec(select(OutboxItem)).all()]
    updates = [r for r in server.requests if r.path.endswith("/updates")]
    assert len(updates) == 1, (errors, [r.path for r in server.requests])
    update = updates[0]
    assert update.path == f"/api/requests/{request.tracking_code}/updates"
    body = update.json()
    assert (body["UnitCode"], body["SubjectCode"], body["Region"]) == (
        "traffic", "traffic", "safaieh")
    assert (body["District"], body["Landmark"], body["EventKind"]) == (
        2, "کنار مسجد", "request_updated")
