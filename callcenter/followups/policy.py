"""One contact policy for every follow-up channel (SMS and voice): pure, clock passed in.

Order of the checks (the first that fails is the recorded reason):

1. ``opted-out``        the citizen said stop (covers voice and SMS)   -> give up
2. ``request-duplicate`` / ``request-rejected``: no survey for these   -> give up
3. ``friday`` / ``holiday`` / ``outside-hours``: calling hours          -> retry at next opening
4. ``contact-cap``      too many contacts in the period                 -> retry when one expires

"Give up" decisions end the task (``skipped``); "retry" decisions move its due time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from callcenter.cases.models import RequestStatus
from callcenter.clock import as_utc
from callcenter.reference.hours import Holidays, Hours

# Looking further than this for the next calling window means the configuration closes
# every day (e.g. every date a holiday): give up instead of looping.
_MAX_DAYS_AHEAD = 60


@dataclass(frozen=True)
class ContactSubject:
    """What the policy needs to know about one planned contact."""

    opted_out: bool
    request_status: str | None = None  # None: not about a request (plain callback)
    duplicate_of_id: int | None = None
    is_survey: bool = False
    manual: bool = False  # an agent clicked: the per-citizen cap does not apply


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None
    retry_at: datetime | None = None  # None with ``allowed=False``: give up for good

    @property
    def final(self) -> bool:
        return not self.allowed and self.retry_at is None


ALLOW = Decision(allowed=True)


@dataclass(frozen=True)
class ContactPolicy:
    hours: Hours  # calling hours (not the centre's opening hours)
    cap: int
    period: timedelta

    def decide(
        self, *, subject: ContactSubject, now: datetime, recent_contacts: Sequence[datetime]
    ) -> Decision:
        """May we contact the citizen now? ``recent_contacts``: their ``sent`` times."""
        now = as_utc(now)
        if subject.opted_out:
            return Decision(allowed=False, reason="opted-out")
        if subject.is_survey:
            if (subject.request_status == RequestStatus.DUPLICATE
                    or subject.duplicate_of_id is not None):
                return Decision(allowed=False, reason="request-duplicate")
            if subject.request_status == RequestStatus.REJECTED:
                return Decision(allowed=False, reason="request-rejected")
        closed = self.hours.why_closed(now)
        if closed is not None:
            return Decision(allowed=False, reason=closed, retry_at=self.next_open(now))
        if not subject.manual:
            window = sorted(as_utc(t) for t in recent_contacts if as_utc(t) > now - self.period)
            if len(window) >= self.cap:
                # The oldest contact leaves the window first; then hours apply again.
                free_at = window[len(window) - self.cap] + self.period
                return Decision(allowed=False, reason="contact-cap",
                                retry_at=self.next_open(free_at))
        return ALLOW

    def sms_send_at(self, *, now: datetime, right_after_filing: bool = False) -> datetime:
        """When a citizen SMS that is not a survey may go (status updates from the
        department...): now inside calling hours, else queued to the next opening (the
        morning). The tracking-code SMS right after a filing always goes at once: the
        citizen is waiting for it. One decision for whatever sends the SMS."""
        now = as_utc(now)
        if right_after_filing or self.hours.is_open(now):
            return now
        return self.next_open(now) or now

    def next_open(self, moment: datetime) -> datetime | None:
        """The first moment at or after ``moment`` inside calling hours (UTC)."""
        moment = as_utc(moment)
        if self.hours.is_open(moment):
            return moment
        zone = self.hours.zone
        local = moment.astimezone(zone)
        day = local.date()
        for offset in range(_MAX_DAYS_AHEAD + 1):
            candidate_day = day + timedelta(days=offset)
            start = datetime.combine(candidate_day, self.hours.opens, tzinfo=zone)
            if start < local:
                continue
            if self.hours.is_open(start):
                return as_utc(start)
        return None


def build_policy(
    *, zone: str, opens: time, closes: time, open_on_friday: bool, cap: int,
    period: timedelta, holidays: Holidays | None = None,
) -> ContactPolicy:
    """The policy from settings-like values (holidays from the reference file by default)."""
    hours = Hours(zone=ZoneInfo(zone), opens=opens, closes=closes,
                  holidays=holidays if holidays is not None else Holidays.load(),
                  open_on_friday=open_on_friday)
    return ContactPolicy(hours=hours, cap=cap, period=period)
