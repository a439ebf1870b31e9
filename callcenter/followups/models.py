"""Follow-up tasks: callbacks, abandoned calls, surveys, "not fixed" requests, triage.

Rows in the store, so a restart loses nothing; several instances claim due rows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, text
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class TaskKind(StrEnum):
    CALLBACK = "callback"
    ABANDONED = "abandoned"
    MISSED = "missed"
    SURVEY_SMS = "survey_sms"
    SURVEY_CALL = "survey_call"
    NOT_FIXED = "not_fixed"
    OVERDUE = "overdue"
    TRIAGE = "triage"


class TaskState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


# The open states, as SQL: the condition of the partial index the follow-up list reads.
OPEN_TASK_STATES_SQL = "state IN ('pending', 'claimed', 'waiting')"


class Task(SQLModel, table=True):
    __table_args__ = (
        # open tasks oldest due first (the follow-up list): only the open 1 % of the
        # table's rows are in it, so the list does not walk years of closed tasks
        Index("ix_task_open_due", "due_at", "id", postgresql_where=text(OPEN_TASK_STATES_SQL),
              sqlite_where=text(OPEN_TASK_STATES_SQL)),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16), index=True)
    state: str = Field(default=TaskState.PENDING, sa_type=String(16), index=True)
    request_id: int | None = Field(default=None, foreign_key="citizen_request.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    call_linkedid: str | None = Field(default=None, max_length=64, index=True)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    attempts: int = 0
    max_attempts: int = 3
    assigned_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # One survey per resolution even when two instances schedule at once (unique; NULL
    # for tasks that need no such guard).
    dedupe_key: str | None = Field(default=None, max_length=80, unique=True)
    note: str | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ContactChannel(StrEnum):
    SMS = "sms"
    VOICE = "voice"


class ContactDecision(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class ContactAttempt(SQLModel, table=True):
    """Every decision to contact a citizen or not, with its reason (never edited).

    ``sent`` rows are what the per-citizen contact cap counts.
    """

    __tablename__ = "contact_attempt"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    channel: str = Field(sa_type=String(8))
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    decision: str = Field(sa_type=String(8))
    reason: str | None = Field(default=None, max_length=80)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Escalation(SQLModel, table=True):
    """One escalation of an overdue request (never edited). ``key`` (request, level,
    deadline) is unique: two instances reaching the same level write one row, so the
    request's history and the department hear of it once; a new deadline (reopened)
    escalates afresh."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    request_id: int = Field(foreign_key="citizen_request.id", index=True)
    level: int
    percent: float
    target: str = Field(sa_type=String(16))  # department | head
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
