"""Pushing one JSON message to many websockets at once (agent pops, supervisor page)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from starlette.websockets import WebSocket

SEND_TIMEOUT_SECONDS = 5.0


async def push_json(sockets: Sequence[WebSocket], message: dict[str, Any]
                    ) -> list[WebSocket]:
    """Send ``message`` to every socket concurrently; returns the ones that failed or
    were stuck past ``SEND_TIMEOUT_SECONDS`` (the caller drops them), so one slow
    browser never delays the others."""
    if not sockets:
        return []
    text = json.dumps(message, ensure_ascii=False)
    results = await asyncio.gather(
        *(asyncio.wait_for(ws.send_text(text), SEND_TIMEOUT_SECONDS) for ws in sockets),
        return_exceptions=True,
    )
    return [ws for ws, result in zip(sockets, results, strict=True)
            if isinstance(result, BaseException)]
