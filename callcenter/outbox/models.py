"""The outbox: request changes waiting for Shahrbin, written in the request's transaction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class OutboxState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxItem(SQLModel, table=True):
    """One event to deliver; the idempotency key lets Shahrbin drop our retries."""

    __tablename__ = "crm_outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    request_id: int = Field(foreign_key="citizen_request.id", index=True)
    kind: str = Field(sa_type=String(24))
    idempotency_key: str = Field(unique=True, max_length=80)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(default=OutboxState.PENDING, sa_type=String(12), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OutboxPublic(SQLModel):
    id: int
    event_id: str
    request_id: int
    kind: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
