"""The citizen: one person per normalised phone number, across every channel; or, until
they share their contact, a messenger account alone (``phone`` None, found through
``bot_chat.citizen_id``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class Citizen(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    phone: str | None = Field(default=None, unique=True, index=True, max_length=20,
                              description="E.164; None: known by a messenger account only")
    name: str | None = None
    neighbourhood_code: str | None = Field(default=None, foreign_key="neighbourhood.code")
    opted_out: bool = Field(default=False, description="No follow-ups by voice or SMS")
    opted_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
