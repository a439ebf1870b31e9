"""Deliver queued ``bot_message`` rows: in order, with retries, within the contact policy.

Replies go at once (the citizen just wrote). Pushes (status, survey) pass the same
``ContactPolicy`` as SMS and calls: opted out (the bot's button, or the citizen's
opt-out anywhere) -> skipped for good; outside calling hours or over the cap -> due
again when the policy says. A failed send is due again after ``backoff_delay``; after
``max_attempts`` (or an error no retry fixes) it is ``failed``.

Several instances (PostgreSQL) each run a deliverer: a pass *claims* its rows first,
with the claiming the follow-ups and citizen messages use (``db/claiming.claim_rows``),
so a row is sent by one instance only. States: queued --claim--> claimed --sent-->
sent (or back to queued for a retry or the policy's later time; failed; skipped). A
claim is a lease: a deliverer that died mid-pass leaves its rows claimable again once
``claimed_until`` passes; an outcome is written only by the claim's holder.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from telegram import Bot

from callcenter.backoff import backoff_delay
from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.db.claiming import claim_rows
from callcenter.followups.policy import ContactPolicy, ContactSubject
from callcenter.messenger.models import BotChat, BotMessage, BotMessageKind, BotMessageStatus
from callcenter.messenger.transport import BotSendError, send_text

log = logging.getLogger(__name__)
Db = Callable[[Callable[[Session], Any]], Awaitable[Any]]
PUSHES = (BotMessageKind.STATUS, BotMessageKind.SURVEY)
DEFAULT_LEASE = timedelta(seconds=120)


def _due(now: datetime) -> ColumnElement[bool]:
    """Queued and due, or claimed by a deliverer whose lease ran out."""
    return or_(
        and_(col(BotMessage.status) == BotMessageStatus.QUEUED,
             col(BotMessage.due_at) <= now),
        and_(col(BotMessage.status) == BotMessageStatus.CLAIMED,
             col(BotMessage.claimed_until) < now),
    )


class Deliverer:
    def __init__(self, *, bot: Bot, db: Db, policy: ContactPolicy, max_attempts: int,
                 retry_base_seconds: float, clock: Callable[[], datetime] = utcnow,
                 owner: str | None = None, lease: timedelta = DEFAULT_LEASE) -> None:
        self.bot, self.db, self.policy = bot, db, policy
        self.max_attempts, self.retry_base = max_attempts, retry_base_seconds
        self.clock, self.lease = clock, lease
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.sent = self.failed = 0
        # One pass at a time in this process: the loop and a wake-up never both send
        # the same queued row.
        self._pass = asyncio.Lock()

    async def deliver_due(self, limit: int = 50) -> int:
        """Send every message due now (oldest first); returns how many went out."""
        async with self._pass:
            return await self._deliver(limit)

    async def _deliver(self, limit: int) -> int:
        due = await self.db(lambda s: self._due(s, limit))
        sent = 0
        for message_id, chat_id, text, markup in due:
            try:
                provider_id = await send_text(self.bot, chat_id=chat_id, text=text,
                                              markup=markup)
            except BotSendError as exc:
                await self.db(partial(self._failed, message_id=message_id, exc=exc))
                continue
            await self.db(partial(self._sent, message_id=message_id, provider_id=provider_id))
            sent += 1
        return sent

    def _due(self, session: Session, limit: int) -> list[tuple[int, int, str, Any]]:
        """Claim up to ``limit`` due rows (oldest first); the pushes the contact policy
        holds back are released at once (due later, or skipped). Commits."""
        now = self.clock()
        ids = claim_rows(
            session=session, table=BotMessage, due=_due(now),
            order_by=[col(BotMessage.due_at), col(BotMessage.id)], limit=limit,
            values={"status": BotMessageStatus.CLAIMED, "claimed_by": self.owner,
                    "claimed_until": now + self.lease})
        ready = []
        for message_id in ids:
            row = session.get(BotMessage, message_id)
            assert row is not None
            session.refresh(row)
            if row.kind in PUSHES and not self._allowed(session, row, now):
                continue
            ready.append((message_id, row.chat_id, row.text, row.markup))
        session.commit()
        return ready

    def _allowed(self, session: Session, row: BotMessage, now: datetime) -> bool:
        chat = session.get(BotChat, row.chat_id)
        citizen = session.get(Citizen, chat.citizen_id) if chat and chat.citizen_id else None
        opted_out = chat is None or chat.opted_out or bool(citizen and citizen.opted_out)
        since = now - self.policy.period
        recent = session.exec(
            select(BotMessage.sent_at).where(BotMessage.chat_id == row.chat_id)
            .where(col(BotMessage.kind).in_(list(PUSHES)))
            .where(col(BotMessage.sent_at) >= since)).all()
        decision = self.policy.decide(
            subject=ContactSubject(opted_out=opted_out, is_survey=row.kind == "survey"),
            now=now, recent_contacts=[t for t in recent if t is not None])
        if decision.allowed:
            return True
        if decision.final:
            row.status, row.error = BotMessageStatus.SKIPPED, decision.reason
        else:
            assert decision.retry_at is not None
            row.status = BotMessageStatus.QUEUED
            row.due_at, row.error = decision.retry_at, decision.reason
        row.claimed_by = row.claimed_until = None
        session.add(row)
        return False

    def _sent(self, session: Session, message_id: int, provider_id: int) -> None:
        if self._finish(session, message_id, status=BotMessageStatus.SENT,
                        attempts=BotMessage.attempts + 1, sent_at=self.clock(),
                        provider_id=provider_id, error=None):
            self.sent += 1
        session.commit()

    def _failed(self, session: Session, message_id: int, exc: BotSendError) -> None:
        row = session.get(BotMessage, message_id)
        assert row is not None
        attempts, error = row.attempts + 1, str(exc)[:500]
        if not exc.retryable or attempts >= self.max_attempts:
            if self._finish(session, message_id, status=BotMessageStatus.FAILED,
                            attempts=attempts, error=error):
                self.failed += 1
                log.warning("bot message %s failed after %d attempt(s): %s", message_id,
                            attempts, error)
        else:
            delay = backoff_delay(attempt=attempts, base=self.retry_base)
            self._finish(session, message_id, status=BotMessageStatus.QUEUED,
                         attempts=attempts, error=error,
                         due_at=self.clock() + timedelta(seconds=delay))
        session.commit()

    def _finish(self, session: Session, message_id: int, **values: Any) -> bool:
        """Write an outcome if this deliverer still holds the claim; False when its
        lease ran out and another took the row over."""
        outcome = session.execute(
            update(BotMessage).where(col(BotMessage.id) == message_id)
            .where(col(BotMessage.claimed_by) == self.owner)
            .where(col(BotMessage.status) == BotMessageStatus.CLAIMED)
            .values(claimed_by=None, claimed_until=None, **values))
        if outcome.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("bot message %s: claim lost before its outcome", message_id)
            return False
        return True
