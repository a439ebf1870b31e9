"""The one contact policy (SMS and voice) with a controlled clock.

Dates: 2026-12-03 is a Thursday and (in this test's list) the Jalali holiday 1405-09-12;
2026-12-04 is a Friday; 2026-12-05 is a Saturday, a working day. Tehran is UTC+03:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from callcenter.cases.models import RequestStatus
from callcenter.followups.policy import ContactPolicy, ContactSubject, build_policy
from callcenter.reference.hours import Holidays

HOLIDAYS = Holidays(yearly=frozenset(), dated=frozenset({"1405-09-12"}))
SAT_10_30 = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # 10:30 Tehran
SAT_09_00 = datetime(2026, 12, 5, 5, 30, tzinfo=UTC)
CITIZEN = ContactSubject(opted_out=False)
SURVEY = ContactSubject(opted_out=False, request_status=RequestStatus.RESOLVED, is_survey=True)


@pytest.fixture
def policy() -> ContactPolicy:
    return build_policy(zone="Asia/Tehran", opens=time(9), closes=time(20),
                        open_on_friday=False, cap=2, period=timedelta(days=7),
                        holidays=HOLIDAYS)


def test_inside_calling_hours_on_a_working_day_is_allowed(policy: ContactPolicy) -> None:
    decision = policy.decide(subject=SURVEY, now=SAT_10_30, recent_contacts=[])
    assert decision.allowed and decision.reason is None


@pytest.mark.parametrize(("now", "reason", "retry"), [
    # 08:59 Tehran Saturday: too early -> 09:00 the same day
    (datetime(2026, 12, 5, 5, 29, tzinfo=UTC), "outside-hours", SAT_09_00),
    # 20:00 Tehran Saturday: closed (end exclusive) -> 09:00 Sunday
    (datetime(2026, 12, 5, 16, 30, tzinfo=UTC), "outside-hours",
     SAT_09_00 + timedelta(days=1)),
    # Friday noon -> Saturday 09:00
    (datetime(2026, 12, 4, 8, 30, tzinfo=UTC), "friday", SAT_09_00),
    # Thursday holiday noon -> skips Friday too -> Saturday 09:00
    (datetime(2026, 12, 3, 8, 30, tzinfo=UTC), "holiday", SAT_09_00),
])
def test_closed_times_defer_to_the_next_opening(
    policy: ContactPolicy, now: datetime, reason: str, retry: datetime
) -> None:
    decision = policy.decide(subject=SURVEY, now=now, recent_contacts=[])
    assert not decision.allowed and not decision.final
    assert decision.reason == reason
    assert decision.retry_at == retry


def test_a_configured_friday_opening_is_honoured() -> None:
    open_friday = build_policy(zone="Asia/Tehran", opens=time(9), closes=time(20),
                               open_on_friday=True, cap=2, period=timedelta(days=7),
                               holidays=HOLIDAYS)
    friday_noon = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    assert open_friday.decide(subject=CITIZEN, now=friday_noon, recent_contacts=[]).allowed


def test_contact_cap_defers_until_the_oldest_contact_leaves_the_period(
    policy: ContactPolicy,
) -> None:
    first = SAT_10_30 - timedelta(days=6)  # Sunday 10:30 Tehran
    second = SAT_10_30 - timedelta(days=1)
    old = SAT_10_30 - timedelta(days=8)  # outside the period: not counted
    decision = policy.decide(subject=CITIZEN, now=SAT_10_30,
                             recent_contacts=[old, first, second])
    assert decision.reason == "contact-cap" and not decision.final
    assert decision.retry_at == first + timedelta(days=7)  # Sunday 10:30, inside hours
    one_contact = policy.decide(subject=CITIZEN, now=SAT_10_30, recent_contacts=[old, second])
    assert one_contact.allowed


def test_cap_retry_lands_inside_calling_hours(policy: ContactPolicy) -> None:
    late = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # Saturday 19:30 Tehran, a week ago
    decision = policy.decide(subject=CITIZEN, now=SAT_10_30,
                             recent_contacts=[late, SAT_10_30 - timedelta(hours=1)])
    # free at Saturday 19:30 -> still open (before 20:00): that moment
    assert decision.retry_at == late + timedelta(days=7)
    later = late + timedelta(minutes=45)  # 20:15 -> the next opening, Sunday 09:00
    decision = policy.decide(subject=CITIZEN, now=SAT_10_30,
                             recent_contacts=[later, SAT_10_30 - timedelta(hours=1)])
    assert decision.retry_at == SAT_09_00 + timedelta(days=1)


def test_manual_contact_ignores_the_cap_but_not_the_opt_out(policy: ContactPolicy) -> None:
    contacts = [SAT_10_30 - timedelta(hours=2), SAT_10_30 - timedelta(hours=1)]
    manual = ContactSubject(opted_out=False, manual=True)
    assert policy.decide(subject=manual, now=SAT_10_30, recent_contacts=contacts).allowed
    opted = ContactSubject(opted_out=True, manual=True)
    assert policy.decide(subject=opted, now=SAT_10_30, recent_contacts=[]).reason == "opted-out"


@pytest.mark.parametrize("now", [SAT_10_30, datetime(2026, 12, 4, 8, 30, tzinfo=UTC)])
def test_opt_out_is_final_on_every_channel_and_at_any_hour(
    policy: ContactPolicy, now: datetime
) -> None:
    for subject in (ContactSubject(opted_out=True),
                    ContactSubject(opted_out=True, request_status="resolved", is_survey=True)):
        decision = policy.decide(subject=subject, now=now, recent_contacts=[])
        assert decision.reason == "opted-out" and decision.final


@pytest.mark.parametrize(("status", "duplicate_of", "reason"), [
    (RequestStatus.DUPLICATE, None, "request-duplicate"),
    (RequestStatus.RESOLVED, 17, "request-duplicate"),
    (RequestStatus.REJECTED, None, "request-rejected"),
])
def test_no_survey_for_duplicate_or_rejected_requests(
    policy: ContactPolicy, status: str, duplicate_of: int | None, reason: str
) -> None:
    subject = ContactSubject(opted_out=False, request_status=status,
                             duplicate_of_id=duplicate_of, is_survey=True)
    decision = policy.decide(subject=subject, now=SAT_10_30, recent_contacts=[])
    assert decision.reason == reason and decision.final
    # the same request state does not block a non-survey contact (e.g. a callback)
    plain = ContactSubject(opted_out=False, request_status=status, duplicate_of_id=duplicate_of)
    assert policy.decide(subject=plain, now=SAT_10_30, recent_contacts=[]).allowed


def test_a_calendar_with_no_open_day_gives_up_instead_of_looping() -> None:
    every_day = Holidays(yearly=frozenset(f"{m:02d}-{d:02d}" for m in range(1, 13)
                                          for d in range(1, 32)), dated=frozenset())
    closed = build_policy(zone="Asia/Tehran", opens=time(9), closes=time(20),
                          open_on_friday=True, cap=2, period=timedelta(days=7),
                          holidays=every_day)
    decision = closed.decide(subject=CITIZEN, now=SAT_10_30, recent_contacts=[])
    assert decision.reason == "holiday" and decision.final


def test_the_shipped_holiday_list_is_used_by_default() -> None:
    shipped = build_policy(zone="Asia/Tehran", opens=time(9), closes=time(20),
                           open_on_friday=False, cap=2, period=timedelta(days=7))
    ashura_noon = datetime(2026, 6, 25, 8, 30, tzinfo=UTC)  # Ashura 1405, a lunar holiday
    assert shipped.decide(subject=CITIZEN, now=ashura_noon,
                          recent_contacts=[]).reason == "holiday"
