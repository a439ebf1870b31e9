"""Every SMS in and out, and every delivery attempt's outcome."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class SmsDirection(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class SmsStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class SmsMessage(SQLModel, table=True):
    """One message; ``twilio_sid`` is unique so a replayed webhook is recognised."""

    __tablename__ = "sms_message"

    id: int | None = Field(default=None, primary_key=True)
    direction: str = Field(sa_type=String(4), index=True)
    to_phone: str = Field(max_length=20)
    from_phone: str = Field(max_length=20)
    body: str
    status: str = Field(sa_type=String(12), index=True)
    attempts: int = 0
    error: str | None = None
    twilio_sid: str | None = Field(default=None, max_length=80, unique=True)
    request_id: int | None = Field(default=None, foreign_key="citizen_request.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
