"""A photo or a location attached to a citizen request (or, until filing, to a bot chat)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    LOCATION = "location"


class Attachment(SQLModel, table=True):
    """``path`` is relative to ``<data_dir>/attachments``; a location has no file.

    ``request_id`` is None while a bot conversation collects it (``chat_id`` set)."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="citizen_request.id", index=True)
    chat_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    kind: str = Field(sa_type=String(12))
    channel: str = Field(sa_type=String(12))
    path: str | None = Field(default=None, max_length=200)
    content_type: str | None = Field(default=None, max_length=40)
    size: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
