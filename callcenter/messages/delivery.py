"""The store-backed delivery of citizen messages: claim due rows, send each on its
channel, record the outcome (sent; retried after ``backoff_delay``; failed for good).

States: pending --claim--> claimed --sent--> sent
                                    --error--> pending (next_attempt_at = now + backoff)
                                    --final--> failed
A sender killed while it holds a claim leaves the message claimed; when the lease runs
out, another round claims it. Killed *after* the provider accepted it and before the
outcome was written, the message goes again (at least once: for a tracking code a
second copy is better than none). Between filing and sending nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.backoff import backoff_delay
from callcenter.citizens.phone import mask_phone
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.messages.models import MessageState
from callcenter.messages.ports import MessageChannel
from callcenter.messages.store import Backlog, ClaimedMessage, backlog, claim_due, finish

log = logging.getLogger(__name__)
T = TypeVar("T")
Runner = Callable[..., Awaitable[Any]]


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryConfig:
    lease: timedelta = timedelta(seconds=120)
    batch: int = 20
    retry_base_seconds: float = 5.0
    max_backoff_seconds: float = 600.0
    send_deadline_seconds: float = 30.0


class MessageDelivery:
    """Sends due messages of the channels it has; one round at a time."""

    def __init__(self, *, engine: Engine, channels: Mapping[str, MessageChannel],
                 config: DeliveryConfig | None = None, send_runner: Runner = asyncio.to_thread,
                 store_runner: Runner = asyncio.to_thread,
                 clock: Callable[[], datetime] = utcnow, owner: str | None = None) -> None:
        self.engine = engine
        self.channels = dict(channels)
        self.config = config or DeliveryConfig()
        self._send = send_runner
        self._store = store_runner
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._lock = asyncio.Lock()
        self.last_backlog: Backlog | None = None

    async def db(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        result: T = await self._store(run)
        return result

    async def deliver_due(self) -> DeliveryReport:
        """One round: claim, send, record; then count what is left (for ``/health``)."""
        async with self._lock:
            report = DeliveryReport()
            now = self.clock()
            claimed = await self.db(lambda s: claim_due(
                session=s, owner=self.owner, now=now, lease=self.config.lease,
                channels=list(self.channels), limit=self.config.batch))
            for message in claimed:
                await self._deliver(message, report)
            self.last_backlog = await self.db(lambda s: backlog(session=s))
            return report

    async def _deliver(self, message: ClaimedMessage, report: DeliveryReport) -> None:
        channel = self.channels[message.channel]
        attempt = message.attempts + 1
        try:
            provider_id = await asyncio.wait_for(
                self._send(channel.send_once, to=message.to, body=message.body),
                self.config.send_deadline_seconds)
        except Exception as exc:  # the channel's own errors, a timeout, anything
            error = f"{type(exc).__name__}: {exc}"[:500]
            final = attempt >= message.max_attempts or not getattr(exc, "retryable", True)
            log.warning("message %s (%s to %s) attempt %d failed: %s", message.id,
                        message.channel, mask_phone(message.to), attempt, error)
            delay = backoff_delay(attempt=attempt, base=self.config.retry_base_seconds,
                                  cap=self.config.max_backoff_seconds)
            values: dict[str, Any] = {"attempts": attempt, "last_error": error}
            if final:
                values["state"] = MessageState.FAILED
            else:
                values.update(state=MessageState.PENDING,
                              next_attempt_at=self.clock() + timedelta(seconds=delay))
            done = await self.db(lambda s: self._finish(
                s, message, values, sent=False if final else None, provider_id=None,
                error=error))
            bucket = report.lost if not done else report.failed if final else report.retried
            bucket.append(message.id)
            return
        values = {"attempts": attempt, "state": MessageState.SENT, "sent_at": self.clock(),
                  "provider_id": str(provider_id)[:80]}
        done = await self.db(lambda s: self._finish(s, message, values, sent=True,
                                                    provider_id=str(provider_id), error=None))
        (report.sent if done else report.lost).append(message.id)

    def _finish(self, session: Session, message: ClaimedMessage, values: dict[str, Any], *,
                sent: bool | None, provider_id: str | None, error: str | None) -> bool:
        if not finish(session=session, message_id=message.id, owner=self.owner,
                      values=values):
            return False
        if sent is not None:  # a final outcome goes to the channel's own log too
            self.channels[message.channel].record(session=session, message=message,
                                                  sent=sent, provider_id=provider_id,
                                                  error=error)
        return True
