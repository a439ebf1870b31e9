"""Call records: one row per call, keyed by (PBX name, Asterisk's linkedid), written when
it ends. Two PBXs' linkedids may be equal (each numbers its own); the pair never is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime

DEFAULT_PBX = "default"  # the single PBX of the flat settings (``settings.pbx_name``)


class Call(SQLModel, table=True):
    # The screen-pop's earlier calls: a caller's newest calls, by citizen or by number,
    # read from the index in order (never the whole history walked backwards).
    __table_args__ = (
        Index("ix_call_citizen_id_entered_at", "citizen_id", "entered_at"),
        Index("ix_call_caller_entered_at", "caller", "entered_at"),
        UniqueConstraint("pbx", "linkedid", name="uq_call_pbx_linkedid"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pbx: str = Field(default=DEFAULT_PBX, max_length=32,
                     sa_column_kwargs={"server_default": DEFAULT_PBX})
    linkedid: str = Field(index=True, max_length=64)
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
