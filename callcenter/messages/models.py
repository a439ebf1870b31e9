"""One outbound message to a citizen, on one channel, waiting, sent or given up."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class MessageState(StrEnum):
    PENDING = "pending"  # due at ``next_attempt_at`` (new, or retried after a failure)
    CLAIMED = "claimed"  # a sender holds it until ``claimed_until`` (a lease)
    SENT = "sent"
    FAILED = "failed"  # for good: attempts used up or a permanent error


class MessageKind(StrEnum):
    """What caused the message (free text in the column: other parts add their own)."""

    REQUEST_FILED = "request_filed"
    REPEAT_CONTACT = "repeat_contact"
    STATUS_CHANGED = "status_changed"
    SURVEY = "survey"


class CitizenMessage(SQLModel, table=True):
    """Written in the same transaction as what caused it; ``dedupe_key`` (unique, NULL
    when not needed) keeps a cause from queueing the same message twice."""

    __tablename__ = "citizen_message"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=String(16), index=True)  # "sms", later "messenger"...
    to_address: str = Field(max_length=64)  # E.164 phone for SMS, chat id for a bot
    body: str
    kind: str = Field(sa_type=String(24))
    request_id: int | None = Field(default=None, foreign_key="citizen_request.id", index=True)
    state: str = Field(default=MessageState.PENDING, sa_type=String(12), index=True)
    attempts: int = 0
    max_attempts: int = 6
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    provider_id: str | None = Field(default=None, max_length=80)
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
