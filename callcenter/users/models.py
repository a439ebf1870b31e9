"""Staff logins: agents, supervisors, admins and managers (reports only)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # Planning staff and city management: reads reports and aggregate exports, never a
    # phone number or a message text (not "staff" for the panels and request APIs).
    MANAGER = "manager"


class User(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=80)
    full_name: str = ""
    role: str = Field(sa_type=String(16))
    extension: str | None = Field(default=None, unique=True, max_length=20)
    password_hash: str
    active: bool = True
    language: str = Field(default="fa", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
