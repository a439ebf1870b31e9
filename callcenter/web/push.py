"""Pushing one JSON message to many websockets at once (agent pops, supervisor page).

A socket whose browser stopped reading (a frozen tab, a dead Wi-Fi that still acks)
fills its send buffer and every push to it hangs. ``push_json`` gives each send
``SEND_TIMEOUT_SECONDS`` and returns the sockets that failed; the hubs stop pushing to
them and ``close_stuck`` closes them. Dropping one from the pushes alone (as before)
left it open: the panel kept saying "connected" and never popped again. Closed, the
panel's script (``common.js`` ``socket``) reconnects and the route resends the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from starlette.status import WS_1013_TRY_AGAIN_LATER
from starlette.websockets import WebSocket

log = logging.getLogger(__name__)
SEND_TIMEOUT_SECONDS = 5.0


async def push_json(sockets: Sequence[WebSocket], message: dict[str, Any]
                    ) -> list[WebSocket]:
    """Send ``message`` to every socket concurrently; returns the ones that failed or
    were stuck past ``SEND_TIMEOUT_SECONDS``: the caller drops them and closes them
    with ``close_stuck``, so one slow browser never delays the others."""
    if not sockets:
        return []
    text = json.dumps(message, ensure_ascii=False)
    results = await asyncio.gather(
        *(asyncio.wait_for(ws.send_text(text), SEND_TIMEOUT_SECONDS) for ws in sockets),
        return_exceptions=True,
    )
    return [ws for ws, result in zip(sockets, results, strict=True)
            if isinstance(result, BaseException)]


async def close_stuck(websocket: WebSocket) -> None:
    """Close a socket the pushes gave up on (1013: try again later).

    The close frame waits behind what the browser has not read, so this may take as
    long as the browser does; run it as a kept task, never inline in a push. Once it is
    out, the route's receive loop ends and the socket is gone; a socket already broken
    has nothing left to close.
    """
    log.info("closing a websocket that stopped reading its pushes")
    with contextlib.suppress(Exception):
        await websocket.close(code=WS_1013_TRY_AGAIN_LATER, reason="too slow; reconnect")
