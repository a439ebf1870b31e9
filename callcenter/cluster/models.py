"""The tables of several instances: the event bus's events (in ``id`` order) and the
agents' current presence (one row per extension)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
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


class AgentPresenceRow(SQLModel, table=True):
    """An agent's presence now (``cluster.presence``); history is elsewhere (reports)."""

    __tablename__ = "agent_presence"

    extension: str = Field(primary_key=True, max_length=80)
    state: str = Field(max_length=16)
    since: float
    reason: str = Field(default="", max_length=120)
    caller: str = Field(default="", max_length=40)
    linkedid: str = Field(default="", max_length=64)
    updated_by: str = Field(default="", max_length=64)


class RateBucket(SQLModel, table=True):
    """A public limiter's token bucket per key, shared by every instance."""

    __tablename__ = "rate_bucket"

    key: str = Field(primary_key=True, max_length=200)
    tokens: float
    stamp: float
    allowed: bool  # the last take's answer (``RETURNING`` reads it)


class LoginFailure(SQLModel, table=True):
    """One counted login attempt per key (``ip:`` / ``user:``), shared by every instance."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: float
