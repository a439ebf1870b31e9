"""The Shahrbin bridge as a part of ``serve``: a delivery loop with one kept task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from callcenter.settings import Settings
from crm_bridge.deliverer import OutboxDeliverer

log = logging.getLogger(__name__)


class ShahrbinPart:
    name = "shahrbin"

    def __init__(self, *, settings: Settings, deliverer: OutboxDeliverer | None,
                 interval_seconds: float = 2.0) -> None:
        """``deliverer`` is None when ``shahrbin_enabled`` is off (``compose``)."""
        self.settings = settings
        self.deliverer = deliverer
        self.interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._last_error: str | None = None

    async def start(self) -> None:
        if self.deliverer is None:
            return
        self._task = asyncio.get_running_loop().create_task(self._run(self.deliverer))

    async def _run(self, deliverer: OutboxDeliverer) -> None:
        while True:
            try:
                await deliverer.deliver_due()
                self._last_error = None
            except Exception as exc:  # the store was away: keep looping, report in health
                self._last_error = f"{type(exc).__name__}: {exc}"
                log.exception("Shahrbin delivery round failed")
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.deliverer is not None:
            await self.deliverer.http.aclose()

    def health(self) -> dict[str, Any]:
        if self.deliverer is None:
            return {"state": "disabled"}
        if self._last_error:
            return {"state": "degraded", "error": self._last_error}
        return {"state": "running"}
