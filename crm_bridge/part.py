"""The Shahrbin bridge as a part of ``serve``: a delivery loop with one kept task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from callcenter.settings import Settings
from crm_bridge.config import load_shahrbin_config
from crm_bridge.deliverer import OutboxDeliverer

log = logging.getLogger(__name__)


class ShahrbinPart:
    name = "shahrbin"

    def __init__(self, *, settings: Settings, engine: Engine, interval_seconds: float = 2.0
                 ) -> None:
        self.settings = settings
        self.engine = engine
        self.interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._http: httpx.AsyncClient | None = None
        self._last_error: str | None = None
        self._deliverer: OutboxDeliverer | None = None

    async def start(self) -> None:
        if not self.settings.shahrbin_enabled:
            return
        config = load_shahrbin_config(self.settings)
        # The setting is a total deadline per delivery (the deliverer enforces it); the
        # per-read timeout only has to be no longer.
        deadline = self.settings.shahrbin_timeout_seconds
        self._http = httpx.AsyncClient(timeout=deadline)
        self._deliverer = deliverer = OutboxDeliverer(
            engine=self.engine, config=config, http=self._http,
            token=self.settings.shahrbin_api_token.get_secret_value(),
            max_attempts=self.settings.shahrbin_max_attempts,
            max_backoff_seconds=self.settings.shahrbin_max_backoff_seconds,
            deadline_seconds=deadline,
        )
        self._task = asyncio.get_running_loop().create_task(self._run(deliverer))

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
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def health(self) -> dict[str, Any]:
        if not self.settings.shahrbin_enabled:
            return {"state": "disabled"}
        if self._last_error:
            return {"state": "degraded", "error": self._last_error}
        if self._deliverer is not None:
            return self._deliverer.health()
        return {"state": "running"}
