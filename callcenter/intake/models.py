"""Possible duplicates (rule 2): other citizens, same category and neighbourhood, same days."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class SuggestionState(StrEnum):
    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class DuplicateSuggestion(SQLModel, table=True):
    """``request`` may repeat ``original`` (the older open request); a person decides."""

    __tablename__ = "duplicate_suggestion"
    __table_args__ = (UniqueConstraint("request_id", "original_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="citizen_request.id", index=True)
    original_id: int = Field(foreign_key="citizen_request.id", index=True)
    state: str = Field(default=SuggestionState.SUGGESTED, sa_type=String(16), index=True)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SuggestionPublic(SQLModel):
    id: int
    state: str
    request_code: str
    original_code: str
    category_code: str
    neighbourhood_code: str | None
    created_at: datetime
