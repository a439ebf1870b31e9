"""The event bus's table: every instance-crossing event, in order (``id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class ClusterEvent(SQLModel, table=True):
    __tablename__ = "cluster_event"

    id: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    kind: str = Field(max_length=40)
    # The agent a pop or state is for: a reconnecting panel asks for its own by this.
    agent: str | None = Field(default=None, max_length=80, index=True)
    origin: str = Field(max_length=64)  # the instance that wrote it
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
