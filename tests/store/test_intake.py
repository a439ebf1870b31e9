"""The one intake of every channel: routing, duplicate rules 1 and 2, the outbox, one
timeline per citizen. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import change_status, history
from callcenter.citizens.models import Citizen
from callcenter.errors import InvalidInput, NotFound
from callcenter.intake.duplicates import confirm_duplicate, dismiss_duplicate, open_suggestions
from callcenter.intake.exceptions import SuggestionDecided
from callcenter.intake.models import DuplicateSuggestion, SuggestionState
from callcenter.intake.services import file_request, timeline
from callcenter.outbox.models import OutboxItem


def _id(row: DuplicateSuggestion | CitizenRequest) -> int:
    assert row.id is not None
    return row.id


def _outbox_kinds(session: Session) -> list[tuple[int, str]]:
    return [(i.request_id, i.kind) for i in session.exec(select(OutboxItem)).all()]


def test_new_report_is_routed_with_deadline_referral_and_outbox(session: Session) -> None:
    """Tried: a walk-in report of a broken street light; expect routing to traffic, a 48 h
    deadline, created+referral history and one outbox line in the same transaction."""
    result = file_request(session=session, phone="09131234567", channel="walk_in",
                          category_code="traffic", description="چراغ خاموش است",
                          neighbourhood_code="fahadan", actor="agent:2101")
    session.commit()
    request = result.request
    assert not result.repeat_of
    assert request.department_code == "traffic"
    assert request.deadline_at is not None
    assert request.deadline_at - request.created_at == timedelta(hours=48)
    assert [e.kind for e in history(session=session, request=request)] == ["created", "status"]
    assert _outbox_kinds(session) == [(request.id, "request_created")]


def test_same_citizen_same_category_open_is_a_repeat_contact(session: Session) -> None:
    """Tried: the same citizen reports waste twice (two formats of one number); expect
    one request, a 'contact' event on it, reporter_count still 1."""
    first = file_request(session=session, phone="09131234567", channel="app",
                         category_code="waste", description="زباله")
    second = file_request(session=session, phone="+98 913 123 4567", channel="phone",
                          category_code="waste", description="هنوز جمع نشده")
    session.commit()
    assert second.repeat_of and second.request.id == first.request.id
    assert session.exec(select(CitizenRequest)).all() == [first.request]
    events = history(session=session, request=first.request)
    assert events[-1].kind == "contact" and events[-1].channel == "phone"
    assert events[-1].note == "هنوز جمع نشده"
    assert first.request.reporter_count == 1
    assert [k for _, k in _outbox_kinds(session)] == ["request_created", "request_contact"]


def test_repeat_rule_ignores_closed_requests_and_other_categories(session: Session) -> None:
    """Tried: a resolved waste request then a new waste report, and a parks report; expect
    two new requests (rule 1 only links to an *open* request of the *same* category)."""
    first = file_request(session=session, phone="09131234567", channel="app",
                         category_code="waste").request
    change_status(session=session, request=first, to_status="resolved", actor="t")
    again = file_request(session=session, phone="09131234567", channel="app",
                         category_code="waste")
    parks = file_request(session=session, phone="09131234567", channel="app",
                         category_code="parks")
    session.commit()
    assert not again.repeat_of and again.request.id != first.id
    assert not parks.repeat_of


def test_untriaged_sms_is_never_folded_into_an_earlier_request(session: Session) -> None:
    """Tried: two free-text SMS (category other, needs triage) from one citizen; expect two
    requests because their real category is not known yet."""
    a = file_request(session=session, phone="09131234567", channel="sms",
                     category_code="other", description="a", needs_triage=True)
    b = file_request(session=session, phone="09131234567", channel="sms",
                     category_code="other", description="b", needs_triage=True)
    session.commit()
    assert a.request.id != b.request.id and b.request.needs_triage


def test_unknown_category_channel_or_neighbourhood_files_nothing(session: Session) -> None:
    """Tried: an unknown category, an unknown channel, an unknown neighbourhood and a
    non-phone number; expect clear errors and no citizen or request row."""
    with pytest.raises(NotFound):
        file_request(session=session, phone="09131234567", channel="app",
                     category_code="potholes")
    with pytest.raises(InvalidInput):
        file_request(session=session, phone="09131234567", channel="fax",
                     category_code="waste")
    with pytest.raises(InvalidInput):
        file_request(session=session, phone="09131234567", channel="app",
                     category_code="waste", neighbourhood_code="atlantis")
    with pytest.raises(InvalidInput):
        file_request(session=session, phone="12", channel="app", category_code="waste")
    session.commit()
    assert session.exec(select(CitizenRequest)).all() == []
    assert session.exec(select(Citizen)).all() == []


def _three_neighbours(session: Session) -> list[CitizenRequest]:
    phones = ["09131111111", "09132222222", "09133333333"]
    return [file_request(session=session, phone=p, channel="app", category_code="streets",
                         neighbourhood_code="safaieh").request for p in phones]


def test_rule_two_suggests_and_confirming_links_and_counts(session: Session) -> None:
    """Tried: three citizens report streets in Safaieh; expect suggestions, and confirming
    both later ones makes them duplicates of the first with reporter_count 3."""
    first, second, third = _three_neighbours(session)
    session.commit()
    listed = open_suggestions(session=session)
    pairs = {(s.request_id, s.original_id) for s, _, _ in listed}
    assert pairs == {(second.id, first.id), (third.id, second.id), (third.id, first.id)}
    by_pair = {(s.request_id, s.original_id): _id(s) for s, _, _ in listed}
    confirm_duplicate(session=session, suggestion_id=by_pair[(_id(second), _id(first))],
                      actor="supervisor:1")
    # third -> second: second is a duplicate now, so the link goes to its root, first
    confirm_duplicate(session=session, suggestion_id=by_pair[(_id(third), _id(second))],
                      actor="supervisor:1")
    session.commit()
    assert second.status == RequestStatus.DUPLICATE and second.duplicate_of_id == first.id
    assert third.status == RequestStatus.DUPLICATE and third.duplicate_of_id == first.id
    assert first.reporter_count == 3
    other = session.get(DuplicateSuggestion, by_pair[(_id(third), _id(first))])
    assert other is not None and other.state == SuggestionState.DISMISSED
    assert open_suggestions(session=session) == []
    with pytest.raises(SuggestionDecided):
        confirm_duplicate(session=session, suggestion_id=_id(other), actor="supervisor:1")
    assert history(session=session, request=first)[-1].kind == "duplicate_linked"
    assert ("status_changed" in [k for rid, k in _outbox_kinds(session) if rid == second.id])


def test_rule_two_respects_window_neighbourhood_and_dismissal(session: Session) -> None:
    """Tried: a report older than the window, one in another neighbourhood, one without a
    neighbourhood; expect no suggestion; a dismissed suggestion changes no request."""
    old = file_request(session=session, phone="09131111111", channel="app",
                       category_code="parks", neighbourhood_code="fahadan").request
    old.created_at = old.created_at - timedelta(hours=100)
    session.add(old)
    session.flush()
    new = file_request(session=session, phone="09132222222", channel="app",
                       category_code="parks", neighbourhood_code="fahadan",
                       duplicate_window=timedelta(hours=72))
    elsewhere = file_request(session=session, phone="09133333333", channel="app",
                             category_code="parks", neighbourhood_code="yaghoubi")
    nowhere = file_request(session=session, phone="09134444444", channel="app",
                           category_code="parks")
    assert new.suggestions == [] and elsewhere.suggestions == [] and nowhere.suggestions == []
    near = file_request(session=session, phone="09135555555", channel="app",
                        category_code="parks", neighbourhood_code="fahadan")
    assert [s.original_id for s in near.suggestions] == [new.request.id]
    session.commit()
    dismiss_duplicate(session=session, suggestion_id=_id(near.suggestions[0]), actor="agent:1")
    session.commit()
    assert near.request.status == RequestStatus.REFERRED and new.request.reporter_count == 1


def test_one_citizen_sms_then_app_then_137_has_one_timeline(session: Session) -> None:
    """Tried: an SMS (0913... in Persian digits), then the app (+98...), then a 137 call
    (98...) about the app's problem; expect one citizen, and a timeline holding the SMS
    request, the app request and the call as a repeat contact on it."""
    sms = file_request(session=session, phone="۰۹۱۳۱۲۳۴۵۶۷", channel="sms",
                       category_code="other", description="سلام، جوی آب گرفته",
                       needs_triage=True)
    app = file_request(session=session, phone="+989131234567", channel="app",
                       category_code="streets", description="جوی آب گرفته",
                       neighbourhood_code="azadshahr")
    call = file_request(session=session, phone="989131234567", channel="phone",
                        category_code="streets", recording_path="/rec/1.wav",
                        linkedid="1700000000.1")
    session.commit()
    citizens = session.exec(select(Citizen)).all()
    assert [c.phone for c in citizens] == ["+989131234567"]
    assert call.repeat_of and call.request.id == app.request.id
    entries = timeline(session=session, citizen_id=citizens[0].id)  # type: ignore[arg-type]
    seen = [(e.tracking_code, e.event.kind, e.event.channel) for e in entries]
    assert (sms.request.tracking_code, "created", "sms") in seen
    assert (app.request.tracking_code, "created", "app") in seen
    assert seen[-1] == (app.request.tracking_code, "contact", "phone")
    assert entries[-1].event.data == {"repeat": True, "recording_path": "/rec/1.wav"}
