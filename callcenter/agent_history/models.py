"""``agent_state_event``: one row per change of an agent's state, never edited.

``state`` is the state the agent entered (``available``, ``ringing``, ``on_call``,
``wrap_up``, ``on_break``, ``logged_out``) with the break ``reason``; a ring the agent
did not answer (AMI ``AgentRingNoAnswer``) is a row of ``kind`` ``ring_no_answer``
that does not end the state the agent is in. The current presence lives elsewhere (the
board); this table is only the past, read by the per-agent report.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class AgentStateEvent(SQLModel, table=True):
    __tablename__ = "agent_state_event"
    __table_args__ = (Index("ix_agent_state_event_extension_at", "extension", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    extension: str = Field(max_length=40)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    kind: str = Field(default="state", sa_type=String(16), description="state|ring_no_answer")
    state: str = Field(sa_type=String(16))
    reason: str = Field(default="", max_length=80)
