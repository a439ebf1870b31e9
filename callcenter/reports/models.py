"""Report jobs: a background export or a monthly PDF, one row each, with its progress.

A row is the claim: the monthly job's ``key`` is ``monthly:YYYY-MM`` (unique), so two
instances that wake on the same day insert one row between them and only the claimer
builds; a lease (``claimed_until``) lets another instance take over a job whose builder
died. An export's key is random. The file lies in ``data/reports/`` under ``file_name``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class JobKind(StrEnum):
    EXPORT = "export"
    MONTHLY = "monthly"


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportJob(SQLModel, table=True):
    __tablename__ = "report_job"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    kind: str = Field(sa_type=String(16), index=True)
    state: str = Field(default=JobState.PENDING, sa_type=String(16), index=True)
    progress: int = Field(default=0, description="0-100")
    step: str = Field(default="", max_length=80)
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    file_name: str | None = Field(default=None, max_length=120)
    error: str | None = Field(default=None, max_length=200)
    requested_by: int | None = Field(default=None, foreign_key="staff_user.id")
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RequestDay(SQLModel, table=True):
    """Requests filed per local day x department x category x neighbourhood x channel:
    the daily roll-up the request-volume and needs figures read for whole days
    (``rollups.py``). ``day`` is the local day (``timezone`` of the mark) as days since
    1970-01-01; ``neighbourhood_code`` ``""`` is "no neighbourhood"."""

    __tablename__ = "report_request_day"

    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    department_code: str = Field(primary_key=True, max_length=40)
    category_code: str = Field(primary_key=True, max_length=40)
    neighbourhood_code: str = Field(primary_key=True, max_length=60)
    channel: str = Field(primary_key=True, sa_type=String(16))
    requests: int


class RollupMark(SQLModel, table=True):
    """Which local days a roll-up holds: ``first_day`` .. ``through_day`` (included)."""

    __tablename__ = "report_rollup_mark"

    name: str = Field(primary_key=True, max_length=40)
    timezone: str = Field(max_length=40)
    first_day: int
    through_day: int
    built_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
