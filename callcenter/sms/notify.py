"""Fire-and-remember citizen SMS after a transaction commits (confirmation, status).

The send (with its retries) runs as a task whose reference ``SmsSender`` keeps until it
finishes, so it is never orphaned; its errors are logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging

from callcenter.sms.service import SmsService

log = logging.getLogger(__name__)


class SmsSender:
    """The app's SMS service (``None`` when none is configured) and its sends in flight."""

    def __init__(self, service: SmsService | None) -> None:
        self.service = service
        self._tasks: set[asyncio.Task[None]] = set()

    def send_later(self, *, to: str, body: str, request_id: int | None) -> None:
        """Queue one SMS on ``service``; a no-op when no SMS service is configured."""
        if self.service is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._send(self.service, to, body, request_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _send(service: SmsService, to: str, body: str, request_id: int | None) -> None:
        try:
            await service.send(to=to, body=body, request_id=request_id)
        except Exception:
            log.exception("SMS for request %s could not be sent", request_id)

    async def drain(self) -> None:
        """Wait for queued SMS (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
