"""Deliver queued ``bot_message`` rows: in order, with retries, within the contact policy.

Replies go at once (the citizen just wrote). Pushes (status, survey) pass the same
``ContactPolicy`` as SMS and calls: opted out (the bot's button, or the citizen's
opt-out anywhere) -> skipped for good; outside calling hours or over the cap -> due
again when the policy says. A failed send is due again after ``backoff_delay``; after
``max_attempts`` (or an error no retry fixes) it is ``failed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, col, select
from telegram import Bot

from callcenter.backoff import backoff_delay
from callcenter.citizens.models import Citizen
from callcenter.clock import utcnow
from callcenter.followups.policy import ContactPolicy, ContactSubject
from callcenter.messenger.models import BotChat, BotMessage, BotMessageKind, BotMessageStatus
from callcenter.messenger.transport import BotSendError, send_text

log = logging.getLogger(__name__)
Db = Callable[[Callable[[Session], Any]], Awaitable[Any]]
PUSHES = (BotMessageKind.STATUS, BotMessageKind.SURVEY)


class Deliverer:
    def __init__(self, *, bot: Bot, db: Db, policy: ContactPolicy, max_attempts: int,
                 retry_base_seconds: float, clock: Callable[[], datetime] = utcnow) -> None:
        self.bot, self.db, self.policy = bot, db, policy
        self.max_attempts, self.retry_base = max_attempts, retry_base_seconds
        self.clock = clock
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
        now = self.clock()
        rows = session.exec(
            select(BotMessage).where(BotMessage.status == BotMessageStatus.QUEUED)
            .where(col(BotMessage.due_at) <= now)
            .order_by(col(BotMessage.due_at), col(BotMessage.id)).limit(limit)).all()
        ready = []
        for row in rows:
            if row.kind in PUSHES and not self._allowed(session, row, now):
                continue
            assert row.id is not None
            ready.append((row.id, row.chat_id, row.text, row.markup))
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
            row.due_at, row.error = decision.retry_at, decision.reason
        session.add(row)
        return False

    def _sent(self, session: Session, message_id: int, provider_id: int) -> None:
        row = session.get(BotMessage, message_id)
        assert row is not None
        row.status, row.attempts = BotMessageStatus.SENT, row.attempts + 1
        row.sent_at, row.provider_id, row.error = self.clock(), provider_id, None
        session.add(row)
        session.commit()
        self.sent += 1

    def _failed(self, session: Session, message_id: int, exc: BotSendError) -> None:
        row = session.get(BotMessage, message_id)
        assert row is not None
        row.attempts += 1
        row.error = str(exc)[:500]
        if not exc.retryable or row.attempts >= self.max_attempts:
            row.status = BotMessageStatus.FAILED
            self.failed += 1
            log.warning("bot message %s failed after %d attempt(s): %s", message_id,
                        row.attempts, row.error)
        else:
            delay = backoff_delay(attempt=row.attempts, base=self.retry_base)
            row.due_at = self.clock() + timedelta(seconds=delay)
        session.add(row)
        session.commit()
