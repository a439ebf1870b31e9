"""The telephony parts of ``serve`` (AMI bridge, FastAGI server, scheduler): each one a
``runtime.Part`` that ``compose`` builds from settings. Nothing here runs at import."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from callcenter.agi.server import FastAgiServer
from callcenter.ami.actions import AmiActions
from callcenter.ami.backoff import Backoff
from callcenter.ami.bridge import AmiBridge
from callcenter.ami.connection import BridgeManager
from callcenter.callrecords.recorder import CallRecorder
from callcenter.calls.events import CallEnded, CallEvent
from callcenter.cluster.events import QueueSnapshot
from callcenter.cluster.lease import AmiLease
from callcenter.settings import PbxSettings, Settings
from ivr_flows.prompts import missing_prompts

log = logging.getLogger(__name__)

# (pbx name, on_acquired, on_lost) -> the lease that calls them.
SNAPSHOT_PERIOD = 0.25  # seconds between looks at the queue picture (sent if changed)
SNAPSHOT_REFRESH = 5.0  # sent at least this often
LeaseFactory = Callable[[str, Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]],
                        AmiLease]


class SchedulerPart:
    """APScheduler 3 (asyncio) - wakes periodic jobs: call recovery, follow-ups."""

    name = "scheduler"

    def __init__(self, settings: Settings) -> None:
        self.scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.timezone))

    async def start(self) -> None:
        self.scheduler.start()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def health(self) -> dict[str, Any]:
        return {"state": "running" if self.scheduler.running else "stopped",
                "jobs": [job.id for job in self.scheduler.get_jobs()]}


class AmiPart:
    """The AMI bridge of one PBX: tracker events go to ``publish`` (the notifier, or the
    event bus of several instances); ended calls to this PBX's recorder.

    With ``lease`` (PostgreSQL, several instances) the bridge runs only while this
    instance holds the PBX's lease: on taking it over, Asterisk's records are recovered
    first and the login resynchronises (QueueStatus, CoreShowChannels); on losing it, the
    bridge stops at once. Without (SQLite: one process) it runs from the start."""

    def __init__(self, *, settings: Settings, pbx: PbxSettings, recorder: CallRecorder,
                 scheduler: SchedulerPart, publish: Callable[[Any], None],
                 lease: LeaseFactory | None = None, name: str = "ami") -> None:
        self.name = name
        self.pbx = pbx
        self.recorder = recorder
        self._publish = publish
        self.bridge = AmiBridge(
            host=pbx.ami_host, port=pbx.ami_port, username=pbx.ami_user,
            secret=pbx.ami_secret.get_secret_value(), on_call_event=self._on_event,
            max_backoff=settings.ami_max_backoff_seconds,
            resync_interval=settings.ami_reconcile_seconds,
        )
        self.lease = lease(pbx.name, self._acquired, self._lost) if lease else None
        # Several instances: an events-off AMI login for the actions of a standby (an
        # agent's break on an instance that does not consume this PBX), and the queue
        # picture sent over the bus while holding.
        self.standby = BridgeManager(
            host=pbx.ami_host, port=pbx.ami_port, username=pbx.ami_user,
            secret=pbx.ami_secret.get_secret_value(), events="off",
            backoff=Backoff(cap=settings.ami_max_backoff_seconds, jitter=0.2),
        ) if lease else None
        self.panel_actions = AmiActions(manager=self.bridge.manager, standby=self.standby)
        self._snapshots: asyncio.Task[None] | None = None
        scheduler.scheduler.add_job(self._recover_if_holding, "interval",
                                    id=f"call-recovery-{pbx.name}",
                                    seconds=settings.recovery_interval_seconds,
                                    max_instances=1, coalesce=True)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running = False
        self._lease_task: asyncio.Task[None] | None = None

    def _on_event(self, event: CallEvent) -> None:
        if isinstance(event, CallEnded):
            self._spawn(self.recorder.on_call_ended(event))
        self._publish(event)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _recover_if_holding(self) -> None:
        if self._running:
            await self.recorder.recover()

    async def _acquired(self) -> None:
        # Calls that ended while nobody held this PBX are in Asterisk's records: store
        # them first (idempotent by (pbx, linkedid): the live path cannot double them).
        self._running = True
        self._spawn(self.recorder.recover())
        self.bridge.start()
        if self.lease is not None:
            self._snapshots = asyncio.get_running_loop().create_task(self._send_snapshots())

    async def _lost(self) -> None:
        self._running = False
        snapshots, self._snapshots = self._snapshots, None
        if snapshots is not None:
            snapshots.cancel()
            await asyncio.gather(snapshots, return_exceptions=True)
        await self.bridge.stop()

    async def _send_snapshots(self) -> None:
        """While holding: this PBX's queue picture to the bus when it changed (and every
        ``SNAPSHOT_REFRESH`` at least, so a newly started instance has it soon)."""
        last: dict[str, Any] | None = None
        sent_at = 0.0
        while True:
            await asyncio.sleep(SNAPSHOT_PERIOD)
            snapshot = self.bridge.queue_state.snapshot()
            now = time.time()
            if snapshot != last or now - sent_at >= SNAPSHOT_REFRESH:
                self._publish(QueueSnapshot(pbx=self.pbx.name, at=now, queues=snapshot))
                last, sent_at = snapshot, now

    async def start(self) -> None:
        if self.lease is None:
            await self._acquired()
        else:
            if self.standby is not None:
                self.standby.start()
            self._lease_task = asyncio.get_running_loop().create_task(self.lease.run())

    async def stop(self) -> None:
        lease_task, self._lease_task = self._lease_task, None
        if lease_task is not None:  # cancelling the lease's loop stops the bridge
            lease_task.cancel()
            await asyncio.gather(lease_task, return_exceptions=True)
        if self._running:
            await self._lost()
        if self.standby is not None:
            await self.standby.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        lease = self.lease.health() if self.lease else None
        if lease is not None and not lease["holding"]:
            actions = self.standby.health()["state"] if self.standby else None
            return {"state": "standby", "pbx": self.pbx.name, "lease": lease,
                    "actions_connection": actions,
                    "calls": self.recorder.health()}
        return {**self.bridge.health(), "pbx": self.pbx.name, "lease": lease,
                "calls": self.recorder.health()}


class FastAgiPart:
    name = "fastagi"

    def __init__(self, server: FastAgiServer, sounds_dir: Path) -> None:
        self.server = server
        self.sounds_dir = sounds_dir
        self.missing_prompts: list[str] = []

    async def start(self) -> None:
        for language in ("fa", "en"):
            missing = await asyncio.to_thread(missing_prompts, self.sounds_dir / language)
            if missing:
                log.warning("%d %s prompt file(s) missing in %s (run scripts/build-prompts): %s",
                            len(missing), language, self.sounds_dir / language,
                            ", ".join(missing))
            if language == "fa":
                self.missing_prompts = missing
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def health(self) -> dict[str, Any]:
        state = self.server.state()
        return {"state": "listening" if state.listening else "stopped",
                "host": state.host, "port": state.port,
                "active_sessions": state.active_sessions,
                "sessions_total": state.sessions_total, "outcomes": dict(state.outcomes),
                "missing_prompts": len(self.missing_prompts)}
