"""An in-memory :class:`~ivr_flows.ports.IvrBackend` for tests of the flows.

Tracking codes here carry a Damm check digit (:func:`damm_check_digit`), which
catches every single-digit typo and every swap of neighbours, the same kind of
guarantee the store's real codes give; the flows only see a validator.
Every call is recorded so tests can assert what the flow asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ivr_flows.ports import KnownPlace, RequestSummary

__all__ = [
    "Callback",
    "FakeBackend",
    "FiledRequest",
    "SurveyAnswer",
    "damm_check_digit",
    "damm_valid",
]

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

CATEGORY_DEPARTMENTS = {
    1: ("waste", "سازمان مدیریت پسماند و خدمات شهری", "Waste Management and City Services"),
    2: ("streets", "معاونت فنی و عمرانی", "Civil Works"),
    3: ("parks", "سازمان سیما، منظر و فضای سبز شهری", "Parks and Green Space Organisation"),
    4: ("traffic", "سازمان حمل‌ونقل و ترافیک", "Transport and Traffic Organisation"),
    5: ("building", "معاونت شهرسازی و معماری", "Urban Planning and Building Control"),
    6: ("public_relations", "اداره کل ارتباطات", "Public Relations"),
}


def damm_check_digit(digits: str) -> str:
    """The Damm check digit of a string of decimal digits."""
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def damm_valid(code: str) -> bool:
    """Whether ``code`` (digits, last one the check digit) passes the Damm check."""
    return len(code) >= 2 and code.isdigit() and damm_check_digit(code) == "0"


@dataclass(frozen=True)
class FiledRequest:
    """What the flow passed to ``file_request``."""

    phone: str
    caller_name: str
    category_number: int
    recording_path: str
    call_uniqueid: str
    summary: RequestSummary
    district: int | None = None
    neighbourhood_code: str | None = None


@dataclass(frozen=True)
class Callback:
    phone: str
    call_uniqueid: str
    queued_at: datetime
    request_code: str | None


@dataclass(frozen=True)
class SurveyAnswer:
    request_code: str
    rating: int
    fixed: bool | None
    call_uniqueid: str


@dataclass
class FakeBackend:
    """Requests in a dict; switches for opening hours, agents and failures."""

    open_now: bool = True
    agents: bool = True
    fail: set[str] = field(default_factory=set)
    """Method names that raise ``RuntimeError`` (to test a failing backend)."""
    requests: dict[str, RequestSummary] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    filed: list[FiledRequest] = field(default_factory=list)
    sms: list[tuple[str, str]] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    surveys: list[SurveyAnswer] = field(default_factory=list)
    opted_out: list[tuple[str, str]] = field(default_factory=list)
    next_serial: int = 140500001
    places: dict[str, KnownPlace] = field(default_factory=dict)
    """The neighbourhood each caller's earlier requests name (``known_place``)."""

    def _check(self, method: str) -> None:
        if method in self.fail:
            raise RuntimeError(f"{method} failed (fake)")

    def new_code(self) -> str:
        """A fresh valid tracking code."""
        body = str(self.next_serial)
        self.next_serial += 1
        return body + damm_check_digit(body)

    def add_request(
        self,
        *,
        phone: str,
        status: str = "referred",
        category_number: int = 1,
        created: datetime | None = None,
        code: str | None = None,
    ) -> RequestSummary:
        """Put an existing request in the store (for greeting and follow-up tests)."""
        dept = CATEGORY_DEPARTMENTS[category_number]
        summary = RequestSummary(
            code=code or self.new_code(),
            status=status,
            department_code=dept[0],
            department_fa=dept[1],
            department_en=dept[2],
            created=created or datetime(2026, 11, 1, tzinfo=UTC) + timedelta(len(self.requests)),
        )
        self.requests[summary.code] = summary
        self.owners[summary.code] = phone
        return summary

    def validate_code(self, code: str) -> bool:
        return damm_valid(code)

    async def open_requests(self, *, phone: str) -> list[RequestSummary]:
        self._check("open_requests")
        closed = {"resolved", "closed", "rejected", "duplicate"}
        mine = [r for c, r in self.requests.items() if self.owners[c] == phone]
        return [r for r in mine if r.status not in closed]

    async def lookup(self, *, code: str) -> RequestSummary | None:
        self._check("lookup")
        return self.requests.get(code)

    async def file_request(
        self,
        *,
        phone: str,
        caller_name: str,
        category_number: int,
        recording_path: str,
        call_uniqueid: str,
        district: int | None = None,
        neighbourhood_code: str | None = None,
    ) -> RequestSummary:
        self._check("file_request")
        earlier = [f.summary for f in self.filed if f.phone == phone
                   and f.category_number == category_number and not f.summary.repeat]
        if earlier:  # duplicate rule 1: the caller's open request of that category
            summary = replace(earlier[-1], repeat=True)
        else:
            summary = self.add_request(phone=phone, status="referred",
                                       category_number=category_number)
        self.filed.append(
            FiledRequest(
                phone, caller_name, category_number, recording_path, call_uniqueid, summary,
                district, neighbourhood_code,
            )
        )
        return summary

    async def known_place(self, *, phone: str) -> KnownPlace | None:
        self._check("known_place")
        return self.places.get(phone)

    async def send_sms_code(self, *, phone: str, code: str) -> None:
        self._check("send_sms_code")
        self.sms.append((phone, code))

    async def create_callback(
        self,
        *,
        phone: str,
        call_uniqueid: str,
        queued_at: datetime,
        request_code: str | None,
    ) -> None:
        self._check("create_callback")
        self.callbacks.append(Callback(phone, call_uniqueid, queued_at, request_code))

    async def agents_available(self) -> bool:
        self._check("agents_available")
        return self.agents

    async def is_open_now(self) -> bool:
        self._check("is_open_now")
        return self.open_now

    async def record_survey(
        self,
        *,
        request_code: str,
        rating: int,
        fixed: bool | None,
        call_uniqueid: str,
    ) -> None:
        self._check("record_survey")
        self.surveys.append(SurveyAnswer(request_code, rating, fixed, call_uniqueid))

    async def opt_out(self, *, request_code: str, call_uniqueid: str) -> None:
        self._check("opt_out")
        self.opted_out.append((request_code, call_uniqueid))
