"""Pushes the live picture and today's figures to every supervisor socket.

Live picture: on every call event or agent change (coalesced over ``LIVE_DEBOUNCE``) and
every ``TICK_SECONDS``. Figures (store queries, in a thread): at start, after each
ended call, and every ``STATS_SECONDS``. With no supervisor watching, an ended call
reloads no figures and no picture is built (only the agents' board is kept in step
with the queue): under a burst of calls the figures' store queries ran twice a second
for nobody. A supervisor who connects gets both fresh (``attach``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from callcenter.agent_panel.presence import AgentBoard
from callcenter.calls.events import CallEnded
from callcenter.calls.queue_state import QueueView
from callcenter.clock import utcnow
from callcenter.followups.escalations import open_escalations
from callcenter.followups.events import TasksChanged
from callcenter.notifier import Notifier
from callcenter.settings import Settings
from callcenter.stats.queries import today_report
from callcenter.supervisor.board import live_picture, sync_board
from callcenter.supervisor.live import LiveCalls
from callcenter.users.models import Role, User
from callcenter.web.push import close_stuck, push_json

log = logging.getLogger(__name__)
LIVE_DEBOUNCE = 0.1
TICK_SECONDS = 2.0
STATS_SECONDS = 15.0


class SupervisorHub:
    """Supervisor sockets over the agents' board (shared with the panel hub) and the live
    queue view (``queue_state``: None when no AMI bridge runs)."""

    def __init__(self, *, settings: Settings, engine: Engine, notifier: Notifier,
                 board: AgentBoard, queue_state: QueueView | None = None) -> None:
        self._settings = settings
        self._engine = engine
        self._notifier = notifier
        self.queue_state = queue_state
        self.board = board
        self.live = LiveCalls()
        self.names: dict[str, str] = {}
        self.last_stats: dict[str, Any] | None = None
        self._sockets: set[WebSocket] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._live_pending = False
        self._stats_pending = False
        self._ticker: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None
        self.board.listen(lambda _presence: self.schedule_live())

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self._notifier.subscribe(object, self.on_event)
        if self._ticker is None:
            self._stopping = asyncio.Event()
            self._ticker = asyncio.ensure_future(self._tick_forever())

    async def stop(self) -> None:
        """Let work in flight finish (never cancel a store read mid-thread: its connection
        would outlive the engine's disposal), then stop."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._ticker is not None:
            self._stopping.set()
            await self._ticker
            self._ticker = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)

    async def _tick_forever(self) -> None:
        last_stats = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_stats >= STATS_SECONDS:
                    last_stats = time.monotonic()
                    await self.push_stats()
                await self.push_live()
            except Exception:
                log.exception("supervisor tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), TICK_SECONDS)

    # -- sockets ------------------------------------------------------------------------

    async def attach(self, websocket: WebSocket) -> None:
        self._sockets.add(websocket)
        if self.last_stats is None:
            await self.refresh_stats()
        await websocket.send_text(json.dumps(self.picture(), ensure_ascii=False))
        await websocket.send_text(json.dumps(self.last_stats, ensure_ascii=False))

    def detach(self, websocket: WebSocket) -> None:
        self._sockets.discard(websocket)

    async def broadcast(self, message: dict[str, Any]) -> None:
        for ws in await push_json(list(self._sockets), message):
            self.detach(ws)
            self._spawn(close_stuck(ws))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what is pushed -----------------------------------------------------------------

    def picture(self) -> dict[str, Any]:
        queue_name = self._settings.queue_name
        snapshot = self.queue_state.snapshot() if self.queue_state else None
        if snapshot is not None:
            sync_board(self.board, snapshot, queue_name)
        now = time.time()
        return live_picture(board=self.board, queue_snapshot=snapshot,
                            in_ivr=self.live.snapshot(now=now),
                            queue_name=queue_name, now=now,
                            names=self.names)

    async def push_live(self) -> None:
        self._live_pending = False
        if not self._sockets:
            snapshot = self.queue_state.snapshot() if self.queue_state else None
            if snapshot is not None:
                sync_board(self.board, snapshot, self._settings.queue_name)
            return
        await self.broadcast(self.picture())

    async def refresh_stats(self) -> dict[str, Any]:
        settings, engine = self._settings, self._engine

        def load() -> tuple[dict[str, Any], dict[str, str]]:
            with Session(engine) as session:
                report = today_report(session=session, now=utcnow(),
                                      timezone=settings.timezone,
                                      threshold_seconds=settings.service_level_seconds)
                # requests past a later escalation level: the page's alert (issue 17)
                report["escalations"] = open_escalations(session=session)
                agents = session.exec(select(User).where(
                    col(User.extension).is_not(None), col(User.active).is_(True),
                    col(User.role) == Role.AGENT)).all()
                names = {u.extension: u.full_name or u.username for u in agents if u.extension}
            return report, names

        report, self.names = await asyncio.to_thread(load)
        for extension in self.names:
            self.board.get(extension)
        self.last_stats = {"type": "stats", **report}
        return self.last_stats

    async def push_stats(self) -> None:
        self._stats_pending = False
        await self.broadcast(await self.refresh_stats())

    # -- events in ----------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        if isinstance(event, TasksChanged):  # every agent's list, live (issue 17)
            self._spawn(self.broadcast({"type": "tasks_changed", "task_id": event.task_id,
                                        "action": event.action}))
            return
        self.live.feed(event)
        if type(event).__module__ == "callcenter.calls.events":
            self.schedule_live()
        if isinstance(event, CallEnded) and not self._stats_pending:
            if not self._sockets:
                self.last_stats = None  # stale from now on: the next attach reloads them
                return
            self._stats_pending = True
            self._spawn(self._later(0.5, self.push_stats))

    def schedule_live(self) -> None:
        if self._live_pending:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._live_pending = True
        self._spawn(self._later(LIVE_DEBOUNCE, self.push_live))

    @staticmethod
    async def _later(delay: float, action: Any) -> None:
        await asyncio.sleep(delay)
        await action()
