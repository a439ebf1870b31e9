"""The AMI bridge assembled: connection, router, tracker, queue state, actions.

Built once by the app's lifespan (``AmiBridge(...)``, then ``start()``/``stop()``). After
every login it resynchronises: ``QueueStatus`` and ``CoreShowChannels`` rebuild the queue
state, and calls whose channels vanished while AMI was away are ended in the tracker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from callcenter.ami.actions import AmiActions
from callcenter.ami.backoff import Backoff
from callcenter.ami.connection import BridgeManager
from callcenter.ami.subscriptions import EventRouter, subscriptions
from callcenter.calls.events import CallEvent
from callcenter.calls.queue_state import QueueState
from callcenter.calls.tracker import CallTracker

log = logging.getLogger(__name__)


class AmiBridge:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        on_call_event: Callable[[CallEvent], None] | None = None,
        max_backoff: float = 30.0,
        resync_interval: float = 60.0,
    ) -> None:
        self.tracker = CallTracker(on_event=on_call_event)
        self.queue_state = QueueState()
        self.manager = BridgeManager(
            host=host,
            port=port,
            username=username,
            secret=secret,
            backoff=Backoff(cap=max_backoff, jitter=0.2),
            on_login=self._on_login,
        )
        self.router = EventRouter(
            table=subscriptions(tracker=self.tracker, queue_state=self.queue_state),
            # only the tracker reads VarSet: the queue state never needs its frames
            frame_filters=self.tracker.frame_filters,
        )
        self.router.attach(self.manager)
        self.actions = AmiActions(manager=self.manager)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.resyncs = 0
        self._resync_interval = resync_interval

    def start(self) -> None:
        self.manager.start()
        self._keep(asyncio.get_running_loop().create_task(self._sweep()))

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep(self) -> None:
        # Besides every login, reconcile every ``resync_interval`` (setting
        # ami_reconcile_seconds): a hangup lost in a burst or a call met mid-way whose
        # first channel had already gone would otherwise stay open and unrecorded.
        while True:
            await asyncio.sleep(self._resync_interval)
            if self.manager.is_ready:
                await self.resync()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.manager.stop()

    def health(self) -> dict[str, Any]:
        return {
            **self.manager.health(),
            "active_calls": self.tracker.active_calls,
            "tracker_errors": self.tracker.errors,
            "resyncs": self.resyncs,
            # Counts only (no numbers): what the panels believe of each queue, to set
            # against Asterisk's QueueStatus after a reconnect.
            "queues": {
                name: {
                    "members": len(queue["members"]),
                    "in_call": sum(1 for m in queue["members"] if m["in_call"]),
                    "waiting": len(queue["waiting"]),
                }
                for name, queue in self.queue_state.snapshot().items()
            },
        }

    def _on_login(self, manager: BridgeManager) -> None:
        self._keep(asyncio.get_running_loop().create_task(self.resync()))

    async def resync(self) -> None:
        """Rebuild queue state and close calls that ended while we were away."""
        try:
            queue_events = await self.actions.queue_status()
            channels = await self.actions.core_show_channels()
        except Exception:
            log.exception("AMI resync failed; the next login will try again")
            return
        self.queue_state.resync([*queue_events, *channels])
        self.tracker.reconcile(channels)
        self.resyncs += 1
