"""The bot's rows: chats (conversation state), updates seen, requests filed, messages out.

``bot_update`` makes every update id count once (a webhook retried or a poll repeated
changes nothing); ``bot_message`` is what a citizen must receive, a store row before it
is a send, delivered with retries (like ``sms_message``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String
from sqlmodel import Field, SQLModel

from callcenter.clock import utcnow
from callcenter.db.types import UtcDateTime


class BotChat(SQLModel, table=True):
    """One private chat with the bot; ``citizen_id`` once they shared their contact."""

    __tablename__ = "bot_chat"

    chat_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={
        "autoincrement": False})
    user_id: int = Field(sa_type=BigInteger, index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    state: str = Field(default="idle", sa_type=String(20))
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opted_out: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class BotUpdate(SQLModel, table=True):
    """An update id already acted on (the platform's, increasing per bot)."""

    __tablename__ = "bot_update"

    update_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={
        "autoincrement": False})
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


class BotRequest(SQLModel, table=True):
    """A request filed through the bot: its status changes and survey go to ``chat_id``."""

    __tablename__ = "bot_request"

    request_id: int = Field(foreign_key="citizen_request.id", primary_key=True,
                            sa_column_kwargs={"autoincrement": False})
    chat_id: int = Field(sa_type=BigInteger, foreign_key="bot_chat.chat_id", index=True)
    # Status lines up to this event were the filing's own: only later ones are pushed.
    after_event_id: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class BotMessageKind(StrEnum):
    REPLY = "reply"  # an answer to what the citizen just wrote: no contact policy
    STATUS = "status"  # pushed by us: the contact policy applies
    SURVEY = "survey"  # pushed by us: the contact policy applies (surveys too)


class BotMessageStatus(StrEnum):
    QUEUED = "queued"
    CLAIMED = "claimed"  # a deliverer holds it until ``claimed_until`` (a lease)
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # the contact policy gave up (opted out)


class BotMessage(SQLModel, table=True):
    """One message to a chat, with its keyboard; ``event_id`` for a status push."""

    __tablename__ = "bot_message"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    kind: str = Field(sa_type=String(10))
    text: str
    markup: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    status: str = Field(default=BotMessageStatus.QUEUED, sa_type=String(10), index=True)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    provider_id: int | None = Field(default=None, sa_type=BigInteger)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    request_id: int | None = Field(default=None, foreign_key="citizen_request.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="request_event.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
