"""Writes ``agent_state_event`` rows where presence changes: every change of the board
(queue login/logout, pause/unpause with reason, ringing, on call, wrap-up start/end)
and every ``AgentNoAnswer`` (AMI ``AgentRingNoAnswer``).

The board's listeners run on the event loop; the rows are written in order by one
worker thread of its own, so a slow store never holds the loop. ``flush`` waits for
what was queued (tests, shutdown).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from callcenter.agent_history.models import AgentStateEvent
from callcenter.agent_panel.presence import AgentPresence
from callcenter.calls.events import AgentNoAnswer
from callcenter.db.engine import session_scope

log = logging.getLogger(__name__)


class AgentHistory:
    """Append-only recorder; hook ``on_presence`` to a board, ``on_no_answer`` to the
    notifier's ``AgentNoAnswer``. A ``runtime.Part``: ``/health`` shows ``failing`` while
    the last row could not be written."""

    name = "agent_history"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agent-history")
        self._pending: list[Future[None]] = []
        self.errors = 0
        self.last_failed = False

    def on_presence(self, presence: AgentPresence) -> None:
        self._append(AgentStateEvent(
            extension=presence.extension, at=datetime.fromtimestamp(presence.since, UTC),
            state=presence.state.value, reason=presence.reason[:80]))

    def on_no_answer(self, event: AgentNoAnswer) -> None:
        if not event.agent:
            return
        self._append(AgentStateEvent(extension=event.agent,
                                     at=datetime.fromtimestamp(event.at, UTC),
                                     kind="ring_no_answer", state="ringing",
                                     reason=event.status[:80]))

    def _append(self, row: AgentStateEvent) -> None:
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._executor.submit(self._write, row))

    def _write(self, row: AgentStateEvent) -> None:
        try:
            with session_scope(self.engine) as session:
                session.add(row)
            self.last_failed = False
        except Exception:  # the history is a report's input: never break the call path
            self.errors += 1
            self.last_failed = True
            log.exception("agent state history: a row was not written")

    def flush(self, timeout: float = 10.0) -> None:
        for future in list(self._pending):
            future.result(timeout=timeout)
        self._pending = []

    def close(self) -> None:
        self.flush()
        self._executor.shutdown(wait=True)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        import asyncio

        await asyncio.to_thread(self.flush)

    def health(self) -> dict[str, Any]:
        queued = sum(1 for f in self._pending if not f.done())
        return {"state": "failing" if self.last_failed else "running", "errors": self.errors,
                "queued": queued}
