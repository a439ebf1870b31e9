"""SMS out: the ``SmsService`` interface and the one implementation that records every
attempt in ``sms_message`` and retries with backoff over a transport (Twilio or log)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine

from callcenter.backoff import backoff_delay
from callcenter.citizens.phone import mask_phone
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.sms.models import SmsDirection, SmsMessage, SmsStatus

log = logging.getLogger(__name__)


class SmsTransportError(Exception):
    """One send failed; ``retryable`` False for errors a retry cannot fix (bad number)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SmsTransport(Protocol):
    """A blocking one-shot send returning the provider's message id (run in a thread)."""

    def send_once(self, *, to: str, body: str) -> str: ...


@dataclass(frozen=True)
class SmsResult:
    ok: bool
    message_id: int
    attempts: int
    provider_sid: str | None = None
    error: str | None = None


class SmsService(Protocol):
    """What the rest of the system sees (``Services.sms.service``, the IVR, the follow-ups)."""

    async def send(self, *, to: str, body: str, request_id: int | None = None) -> SmsResult: ...


class LogTransport:
    """Development: writes the message to the log (number masked) and succeeds."""

    def send_once(self, *, to: str, body: str) -> str:
        # Message texts are personal data: only at DEBUG (never at INFO).
        log.info("SMS to %s (%d characters)", mask_phone(to), len(body))
        log.debug("SMS text: %s", body)
        return f"LOG{uuid.uuid4().hex[:30]}"


class RecordingSmsService:
    """Sends through ``transport``; every attempt and its outcome is stored."""

    def __init__(
        self,
        *,
        transport: SmsTransport,
        engine: Engine,
        from_number: str,
        max_attempts: int = 4,
        retry_base_seconds: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.transport = transport
        self.engine = engine
        self.from_number = from_number
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self._sleep = sleep

    async def send(self, *, to: str, body: str, request_id: int | None = None) -> SmsResult:
        """Send with retries (``base * 2^n`` seconds apart); never raises on delivery."""
        message_id = await asyncio.to_thread(self._record_new, to, body, request_id)
        error: str | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                sid = await asyncio.to_thread(self.transport.send_once, to=to, body=body)
            except SmsTransportError as exc:
                error = str(exc)[:500]
                final = not exc.retryable or attempt == self.max_attempts
                await asyncio.to_thread(self._record_attempt, message_id, attempt, error,
                                        None, SmsStatus.FAILED if final else SmsStatus.QUEUED)
                log.warning("SMS %s to %s attempt %d failed: %s", message_id, mask_phone(to),
                            attempt, error)
                if final:
                    return SmsResult(ok=False, message_id=message_id, attempts=attempt,
                                     error=error)
                await self._sleep(backoff_delay(attempt=attempt, base=self.retry_base_seconds))
                continue
            await asyncio.to_thread(self._record_attempt, message_id, attempt, error, sid,
                                    SmsStatus.SENT)
            return SmsResult(ok=True, message_id=message_id, attempts=attempt,
                             provider_sid=sid, error=error)
        raise AssertionError("unreachable: max_attempts >= 1")

    def _record_new(self, to: str, body: str, request_id: int | None) -> int:
        with session_scope(self.engine) as session:
            row = SmsMessage(direction=SmsDirection.OUTBOUND, to_phone=to,
                             from_phone=self.from_number, body=body, status=SmsStatus.QUEUED,
                             request_id=request_id)
            session.add(row)
            session.flush()
            assert row.id is not None
            return row.id

    def _record_attempt(self, message_id: int, attempt: int, error: str | None,
                        sid: str | None, status: SmsStatus) -> None:
        with session_scope(self.engine) as session:
            row = session.get(SmsMessage, message_id)
            assert row is not None
            row.attempts, row.error, row.status = attempt, error, status
            row.twilio_sid = sid or row.twilio_sid
            row.updated_at = utcnow()
            session.add(row)
