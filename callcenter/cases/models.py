"""The unified request store: requests of every channel and their full history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, text
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class RequestChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    APP = "app"
    WEB = "web"
    SOCIAL = "social"
    WALK_IN = "walk_in"


class RequestStatus(StrEnum):
    NEW = "new"
    REFERRED = "referred"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    CLOSED = "closed"
    REOPENED = "reopened"


OPEN_STATUSES = frozenset(
    {RequestStatus.NEW, RequestStatus.REFERRED, RequestStatus.IN_PROGRESS, RequestStatus.REOPENED}
)
# The open statuses as SQL, sorted: the condition of the partial open-request index
# (a query names the same literals to use it on SQLite).
OPEN_STATUSES_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES)))

# The status life of MISSION.md; a reopened request goes back through the department.
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.NEW: frozenset(
        {RequestStatus.REFERRED, RequestStatus.REJECTED, RequestStatus.DUPLICATE}
    ),
    RequestStatus.REFERRED: frozenset(
        {RequestStatus.IN_PROGRESS, RequestStatus.RESOLVED, RequestStatus.REJECTED,
         RequestStatus.DUPLICATE}
    ),
    RequestStatus.IN_PROGRESS: frozenset(
        {RequestStatus.RESOLVED, RequestStatus.REJECTED, RequestStatus.DUPLICATE}
    ),
    RequestStatus.RESOLVED: frozenset({RequestStatus.CLOSED, RequestStatus.REOPENED}),
    RequestStatus.REOPENED: frozenset(
        {RequestStatus.REFERRED, RequestStatus.IN_PROGRESS, RequestStatus.RESOLVED,
         RequestStatus.REJECTED}
    ),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.DUPLICATE: frozenset(),
    RequestStatus.CLOSED: frozenset(),
}


class RequestBase(SQLModel):
    channel: str = Field(sa_type=String(16), index=True)
    category_code: str = Field(foreign_key="category.code", max_length=40, index=True)
    neighbourhood_code: str | None = Field(default=None, foreign_key="neighbourhood.code")
    description: str | None = None


class CitizenRequest(RequestBase, table=True):
    """One citizen request (table ``citizen_request``: ``request`` is too generic)."""

    __tablename__ = "citizen_request"
    __table_args__ = (
        # a citizen's requests newest first (screen-pop, search by phone)
        Index("ix_citizen_request_citizen_created", "citizen_id", "created_at", "id"),
        # a citizen's open requests (IVR greeting, duplicate rule 1)
        Index("ix_citizen_request_citizen_status", "citizen_id", "status"),
        # open requests per department, counted from the index alone (backlog)
        Index("ix_citizen_request_status_department", "status", "department_code",
              "deadline_at"),
        # the open requests alone, by department (the backlog's GROUP BY reads only
        # them and in department order; SQLite's planner otherwise walks the department
        # index over every request, as its statistics cannot tell open from closed)
        Index("ix_citizen_request_open_department", "department_code", "deadline_at",
              postgresql_where=text(OPEN_STATUSES_SQL), sqlite_where=text(OPEN_STATUSES_SQL)),
        # duplicate rule 2: same category and neighbourhood, the last days
        Index("ix_citizen_request_category_hood_created", "category_code",
              "neighbourhood_code", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tracking_code: str = Field(unique=True, index=True, max_length=12)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    department_code: str = Field(foreign_key="department.code", max_length=40, index=True)
    recording_path: str | None = None
    status: str = Field(default=RequestStatus.NEW, sa_type=String(16), index=True)
    deadline_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    duplicate_of_id: int | None = Field(default=None, foreign_key="citizen_request.id")
    needs_triage: bool = False
    reporter_count: int = Field(default=1, description="Citizens who reported this problem")
    survey_rating: int | None = None
    survey_fixed: bool | None = None
    survey_channel: str | None = Field(default=None, sa_type=String(16))
    survey_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Where the problem is, as far as known: the municipal district the caller keyed in
    # the IVR (the neighbourhood comes later, from triage), and a landmark/address line.
    district: int | None = None
    landmark: str | None = Field(default=None, max_length=300)
    # When an agent completed triage (filed -> triaged is the triage time of the reports).
    triaged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Bumped by every edit and status change: a form saved against an older version is
    # refused (409), so two agents never overwrite each other.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class RequestCreate(RequestBase):
    phone: str
    citizen_name: str | None = None


class RequestPublic(RequestBase):
    id: int
    tracking_code: str
    department_code: str
    status: str
    deadline_at: datetime | None
    created_at: datetime
    reporter_count: int
    duplicate_of_id: int | None


class RequestEvent(SQLModel, table=True):
    """One line of a request's history: a change or a contact, never edited."""

    __tablename__ = "request_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="citizen_request.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    kind: str = Field(sa_type=String(24), description="created|status|referral|contact|...")
    actor: str = Field(default="system", max_length=80)
    from_status: str | None = Field(default=None, sa_type=String(16))
    to_status: str | None = Field(default=None, sa_type=String(16))
    channel: str | None = Field(default=None, sa_type=String(16))
    call_id: int | None = Field(default=None, foreign_key="call.id")
    note: str | None = None
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # The call this line is about (``data["linkedid"]``, kept in a column so the call
    # recorder finds its lines by index when the call ends).
    linkedid: str | None = Field(default=None, max_length=64, index=True)
