"""Out to Shahrbin: at-least-once delivery of the outbox with an Idempotency-Key.

Each round claims due items (a lease: ``next_attempt_at`` pushed ahead in the claiming
transaction, so a second bridge instance or a crash mid-send never loses an item, at
worst sends it again with the same key), POSTs them with httpx, then records the outcome:
delivered, or retried with capped exponential backoff, or dead after N attempts.

httpx's timeout is per read: a peer that sends one byte every few seconds never trips
it, and a round (items are sent one after the other) then waits on that peer forever.
So each delivery also has a total deadline (``deadline_seconds``, the whole request from
connect to the last byte); past it the delivery is abandoned, the item retried after
its backoff, and ``health()`` says so.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from callcenter.attachments.services import attachment_links
from callcenter.backoff import backoff_delay
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.media.links import LinkSigner, recording_link
from callcenter.outbox.models import OutboxItem, OutboxState
from crm_bridge.config import ShahrbinConfig
from crm_bridge.outbox import due_items

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(seconds=120)


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


@dataclass
class RoundReport:
    delivered: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)


class OutboxDeliverer:
    def __init__(
        self,
        *,
        engine: Engine,
        config: ShahrbinConfig,
        token: str,
        http: httpx.AsyncClient,
        max_attempts: int = 8,
        base_backoff_seconds: float = 5.0,
        max_backoff_seconds: float = 600.0,
        deadline_seconds: float = 30.0,
        links: LinkSigner | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.token = token
        self.http = http
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff_seconds
        self.max_backoff = max_backoff_seconds
        self.deadline = deadline_seconds
        self.links = links  # signs the recording link of each payload as it is sent
        self.abandoned = 0  # deliveries cut at the deadline, since start
        self.failing_since: float | None = None  # monotonic time of the first failure
        self.last_error: str | None = None

    def backoff(self, attempts: int) -> timedelta:
        """``base * 2^(n-1)``, capped: 5 s, 10 s, 20 s ... at most ``max_backoff``."""
        return timedelta(seconds=backoff_delay(attempt=attempts, base=self.base_backoff,
                                               cap=self.max_backoff))

    async def deliver_due(self, *, limit: int = 20) -> RoundReport:
        """One round: claim, send, record. Never raises for a peer's failure."""
        report = RoundReport()
        for item in await asyncio.to_thread(self._claim, limit):
            error = await self._send(item)
            self._note(error)
            state = await asyncio.to_thread(self._record, item, error)
            {OutboxState.DELIVERED: report.delivered, OutboxState.PENDING: report.retried,
             OutboxState.DEAD: report.dead}[state].append(item.id)
        return report

    def _claim(self, limit: int) -> list[_Claimed]:
        with session_scope(self.engine) as session:
            items = due_items(session=session, limit=limit)
            # The lease outlasts the round even if every send runs to its deadline.
            lease_until = utcnow() + max(CLAIM_LEASE,
                                         timedelta(seconds=self.deadline * (len(items) + 1)))
            claimed = []
            for item in items:
                assert item.id is not None
                item.next_attempt_at = lease_until
                session.add(item)
                claimed.append(_Claimed(item.id, item.kind, item.idempotency_key,
                                        dict(item.payload), item.attempts))
            return claimed

    async def _send(self, item: _Claimed) -> str | None:
        endpoint = self.config.endpoints.get(item.kind)
        if endpoint is None:
            return f"no endpoint configured for {item.kind!r}"
        payload = self._with_links(item.payload)
        request_fields = {k: v for k, v in payload.get("request", {}).items()
                          if v is not None}
        try:
            path = endpoint.path.format(**request_fields)
        except KeyError as exc:
            return f"endpoint path needs field {exc}"
        headers = {
            self.config.auth.header: self.config.auth.value.format(token=self.token),
            self.config.idempotency_header: item.idempotency_key,
        }
        try:
            async with asyncio.timeout(self.deadline):
                response = await self.http.request(
                    endpoint.method, self.config.base_url.rstrip("/") + path,
                    json=self.config.outbound_body(payload), headers=headers)
        except TimeoutError:
            self.abandoned += 1
            return f"abandoned: no complete answer within {self.deadline:g} s (total deadline)"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if response.status_code in self.config.delivered_statuses:
            return None
        return f"HTTP {response.status_code}: {response.text[:300]}"

    def _with_links(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload with ``recording_url``: a signed link that expires, made now."""
        request = payload.get("request") or {}
        photos = payload.get("attachment_ids") or []
        if self.links is not None and photos:  # the citizen's photos (issue 20)
            request = {**request, "attachment_urls": attachment_links(self.links, photos)}
            payload = {**payload, "request": request}
        if self.links is None or not request.get("has_recording"):
            return payload
        url = recording_link(self.links, str(request["tracking_code"]))
        return {**payload, "request": {**request, "recording_url": url}}

    def _note(self, error: str | None) -> None:
        if error is None:
            self.failing_since, self.last_error = None, None
            return
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    def health(self) -> dict[str, Any]:
        """``running`` while the last delivery went through; ``degraded`` while failing."""
        failing = self.failing_since is not None
        report: dict[str, Any] = {"state": "degraded" if failing else "running",
                                  "abandoned_deliveries": self.abandoned,
                                  "deadline_seconds": self.deadline}
        if failing:
            assert self.failing_since is not None
            report["failing_for_seconds"] = round(time.monotonic() - self.failing_since, 1)
            report["error"] = self.last_error
        return report

    def _record(self, claimed: _Claimed, error: str | None) -> OutboxState:
        with session_scope(self.engine) as session:
            item = session.get(OutboxItem, claimed.id)
            assert item is not None
            item.attempts = claimed.attempts + 1
            now = utcnow()
            if error is None:
                item.state, item.delivered_at, item.last_error = (
                    OutboxState.DELIVERED, now, None)
            elif item.attempts >= self.max_attempts:
                item.state, item.last_error = OutboxState.DEAD, error
                log.error("Shahrbin outbox item %s is dead after %d attempts: %s",
                          item.id, item.attempts, error)
            else:
                item.last_error = error
                item.next_attempt_at = now + self.backoff(item.attempts)
                log.warning("Shahrbin outbox item %s attempt %d failed: %s",
                            item.id, item.attempts, error)
            session.add(item)
            return OutboxState(item.state)
