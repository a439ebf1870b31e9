"""The telephony parts of ``serve`` (AMI bridge, FastAGI server, scheduler): each one a
``runtime.Part`` that ``compose`` builds from settings. Nothing here runs at import."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from callcenter.agi.server import FastAgiServer
from callcenter.ami.bridge import AmiBridge
from callcenter.callrecords.recorder import CallRecorder
from callcenter.calls.events import CallEnded, CallEvent
from callcenter.notifier import Notifier
from callcenter.settings import Settings
from ivr_flows.prompts import missing_prompts

log = logging.getLogger(__name__)


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
    """The AMI bridge: tracker events go to the notifier; ended calls to the store."""

    name = "ami"

    def __init__(self, *, settings: Settings, notifier: Notifier, recorder: CallRecorder,
                 scheduler: SchedulerPart) -> None:
        self.notifier = notifier
        self.recorder = recorder
        self.bridge = AmiBridge(
            host=settings.ami_host, port=settings.ami_port, username=settings.ami_user,
            secret=settings.ami_secret.get_secret_value(), on_call_event=self._on_event,
            max_backoff=settings.ami_max_backoff_seconds,
            resync_interval=settings.ami_reconcile_seconds,
        )
        notifier.subscribe(CallEnded, recorder.on_call_ended)
        scheduler.scheduler.add_job(recorder.recover, "interval", id="call-recovery",
                                    seconds=settings.recovery_interval_seconds,
                                    max_instances=1, coalesce=True)
        self._tasks: set[asyncio.Task[Any]] = set()

    def _on_event(self, event: CallEvent) -> None:
        self.notifier.publish(event)

    async def start(self) -> None:
        # Calls that ended while we were down are in Asterisk's records: store them first.
        task = asyncio.get_running_loop().create_task(self.recorder.recover())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.bridge.start()

    async def stop(self) -> None:
        await self.bridge.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def health(self) -> dict[str, Any]:
        return {**self.bridge.health(), "calls": self.recorder.health()}


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
