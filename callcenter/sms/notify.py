"""Fire-and-remember citizen SMS after a transaction commits (confirmation, status).

The send (with its retries) runs as a task whose reference is kept on the container
until it finishes, so it is never orphaned; its errors are logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


def send_later(container: Any, *, to: str, body: str, request_id: int | None) -> None:
    """Queue one SMS on ``container.sms``; a no-op when no SMS service is configured."""
    if container.sms is None:
        return
    tasks: set[asyncio.Task[Any]] = container.extras.setdefault("sms.tasks", set())
    task = asyncio.get_running_loop().create_task(_send(container, to, body, request_id))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _send(container: Any, to: str, body: str, request_id: int | None) -> None:
    try:
        await container.sms.send(to=to, body=body, request_id=request_id)
    except Exception:
        log.exception("SMS for request %s could not be sent", request_id)


async def drain(container: Any) -> None:
    """Wait for queued SMS (tests and shutdown)."""
    tasks: set[asyncio.Task[Any]] = container.extras.get("sms.tasks", set())
    while tasks:
        await asyncio.gather(*list(tasks), return_exceptions=True)
