"""Call records: one row per call (keyed by Asterisk's linkedid), written when it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class Call(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    linkedid: str = Field(unique=True, index=True, max_length=64)
    uniqueid: str = Field(max_length=64)
    direction: str = Field(default="inbound", sa_type=String(10))
    caller: str | None = Field(default=None, max_length=40)
    caller_name: str | None = None
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    queue: str | None = Field(default=None, max_length=80)
    agent: str | None = Field(default=None, max_length=80, index=True)
    entered_at: datetime = Field(sa_type=UtcDateTime, index=True)
    queued_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    outcome: str = Field(sa_type=String(16), index=True)
    hangup_by: str | None = Field(default=None, max_length=80)
    ivr_path: str | None = None
    request_id: int | None = Field(default=None, foreign_key="citizen_request.id")
    source: str = Field(default="ami", sa_type=String(16), description="ami|recovery")
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
