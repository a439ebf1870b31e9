"""The citizen: one person per normalised phone number, across every channel."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class Citizen(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(unique=True, index=True, max_length=20, description="E.164")
    name: str | None = None
    neighbourhood_code: str | None = Field(default=None, foreign_key="neighbourhood.code")
    opted_out: bool = Field(default=False, description="No follow-ups by voice or SMS")
    opted_out_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
