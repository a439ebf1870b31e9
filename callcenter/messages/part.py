"""The message delivery as a part of ``serve``: a loop with one kept task, woken early
by ``wake()`` (a route that queued a message), and its health (backlog, stalls)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from callcenter.clock import utcnow
from callcenter.messages.delivery import MessageDelivery

log = logging.getLogger(__name__)


class MessagesPart:
    """``delivery`` None: no channel is configured (web-only apps); health says so."""

    name = "messages"

    def __init__(self, *, delivery: MessageDelivery | None, interval_seconds: float = 2.0,
                 stall_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.delivery = delivery
        self.interval = interval_seconds
        self.stall_seconds = stall_seconds
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._round_started: float | None = None
        self._last_round_done: float | None = None
        self._last_error: str | None = None

    def wake(self) -> None:
        """Ask for a round now (safe to call when not running)."""
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        if self.delivery is None:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(self.delivery))

    async def _run(self, delivery: MessageDelivery) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            self._round_started = self._clock()
            try:
                await delivery.deliver_due()
                self._last_error = None
            except Exception as exc:  # the store was away: keep looping, report in health
                self._last_error = type(exc).__name__
                log.exception("message delivery round failed")
            self._last_round_done = self._clock()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def health(self) -> dict[str, Any]:
        if self.delivery is None:
            return {"state": "disabled"}
        now = self._clock()
        report: dict[str, Any] = {"state": "running", "channels": sorted(self.delivery.channels)}
        backlog = self.delivery.last_backlog
        if backlog is not None:
            oldest = (utcnow() - backlog.oldest_created_at).total_seconds() \
                if backlog.oldest_created_at else 0.0
            report.update(backlog=backlog.waiting, failed=backlog.failed,
                          oldest_waiting_seconds=round(oldest, 1))
            if oldest > self.stall_seconds:
                report.update(state="stalled", why="messages wait longer than allowed")
        started = self._round_started
        if started is not None and (self._last_round_done or 0) < started \
                and now - started > self.stall_seconds:
            report.update(state="stalled", why="a delivery round is hung")
        if self._last_error:
            report.update(state="degraded", error=self._last_error)
        return report
