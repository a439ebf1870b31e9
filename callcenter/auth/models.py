"""A signed-in staff session as a row: the cookie names it, the store decides if it lives.

Logout, a password change and disabling the user revoke rows; a row idle longer than
``settings.session_idle_minutes`` or older than ``SESSION_MAX_AGE_SECONDS`` is dead too.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=64)  # random, unguessable
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_why: str | None = Field(default=None, max_length=20)
