"""The request store, the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from callcenter.cases.exceptions import InvalidTransition, NoSuchRequest
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import (
    change_status,
    create_request,
    get_request_by_code,
    history,
    requests_for_phone,
)
from callcenter.cases.tracking import check_digit, is_valid_code
from callcenter.citizens.models import Citizen
from callcenter.errors import InvalidInput, NotFound


def test_filing_routes_to_the_department_with_its_deadline(session: Session) -> None:
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="parks", description="درخت افتاده")
    session.commit()
    assert is_valid_code(request.tracking_code)
    assert request.department_code == "parks"
    assert request.status == RequestStatus.REFERRED
    assert request.deadline_at is not None
    assert request.deadline_at - request.created_at == timedelta(hours=72)
    events = history(session=session, request=request)
    kinds = [(e.kind, e.from_status, e.to_status) for e in events]
    assert kinds == [("created", None, "new"), ("status", "new", "referred")]


def test_every_iranian_format_is_one_citizen_on_one_timeline(session: Session) -> None:
    for phone, channel in [("09131234567", "sms"), ("+989131234567", "app"),
                           ("۰۹۱۳۱۲۳۴۵۶۷", "phone")]:
        create_request(session=session, phone=phone, channel=channel, category_code="waste")
    session.commit()
    assert len(session.exec(select(Citizen)).all()) == 1
    timeline = requests_for_phone(session=session, phone="989131234567")
    assert sorted(r.channel for r in timeline) == ["app", "phone", "sms"]


def test_status_life_and_history(session: Session) -> None:
    request = create_request(session=session, phone="09121112233", channel="web",
                             category_code="streets")
    for status in ("in_progress", "resolved", "reopened", "resolved", "closed"):
        change_status(session=session, request=request, to_status=status, actor="dept")
    session.commit()
    assert request.status == RequestStatus.CLOSED
    assert request.resolved_at is not None
    statuses = [e.to_status for e in history(session=session, request=request)]
    assert statuses == ["new", "referred", "in_progress", "resolved", "reopened", "resolved",
                        "closed"]


@pytest.mark.parametrize(("path", "bad"), [((), "closed"), (("rejected",), "referred"),
                                           (("resolved", "closed"), "reopened")])
def test_forbidden_transitions_are_refused_and_change_nothing(
    session: Session, path: tuple[str, ...], bad: str
) -> None:
    request = create_request(session=session, phone="09121112233", channel="web",
                             category_code="streets")
    for status in path:
        change_status(session=session, request=request, to_status=status, actor="dept")
    before = len(history(session=session, request=request))
    with pytest.raises(InvalidTransition):
        change_status(session=session, request=request, to_status=bad, actor="dept")
    assert len(history(session=session, request=request)) == before


def test_lookup_by_code_catches_typos_and_unknown_codes(session: Session) -> None:
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="waste")
    session.commit()
    assert get_request_by_code(session=session, code=request.tracking_code).id == request.id
    code = request.tracking_code
    typo = code[:3] + str((int(code[3]) + 1) % 10) + code[4:]
    with pytest.raises(NoSuchRequest, match="check digit"):
        get_request_by_code(session=session, code=typo)
    with pytest.raises(NoSuchRequest, match="no request"):
        get_request_by_code(session=session, code="1000000" + check_digit("1000000"))


def test_unknown_category_and_channel_are_domain_errors(session: Session) -> None:
    with pytest.raises(NotFound):
        create_request(session=session, phone="09131234567", channel="phone",
                       category_code="nonsense")
    with pytest.raises(InvalidInput):
        create_request(session=session, phone="09131234567", channel="fax",
                       category_code="waste")


def test_tracking_code_is_unique_in_the_database(session: Session) -> None:
    first = create_request(session=session, phone="09131234567", channel="phone",
                           category_code="waste")
    session.commit()
    clone = CitizenRequest(tracking_code=first.tracking_code, channel="phone",
                           category_code="waste", department_code="waste",
                           citizen_id=first.citizen_id)
    session.add(clone)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        session.commit()
    session.rollback()


def test_open_requests_exclude_closed_ones(session: Session) -> None:
    keep = create_request(session=session, phone="09131234567", channel="phone",
                          category_code="waste")
    done = create_request(session=session, phone="09131234567", channel="phone",
                          category_code="parks")
    change_status(session=session, request=done, to_status="rejected", actor="dept")
    session.commit()
    assert [r.id for r in requests_for_phone(session=session, phone="09131234567",
                                             only_open=True)] == [keep.id]


def test_status_changes_reach_the_shahrbin_outbox_once(session: Session) -> None:
    """Filing gives one "created" item via intake; each later change one "status" item;
    a change that came from Shahrbin itself is not sent back."""
    from callcenter.outbox.models import OutboxItem

    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="waste")
    session.flush()
    assert session.exec(select(OutboxItem)).all() == []  # the referral is part of filing
    change_status(session=session, request=request, to_status="in_progress", actor="agent1")
    change_status(session=session, request=request, to_status="resolved", actor="shahrbin",
                  notify_crm=False)
    session.commit()
    items = session.exec(select(OutboxItem)).all()
    assert [(i.kind, i.payload["request"]["status"]) for i in items] == [
        ("status_changed", "in_progress")]
