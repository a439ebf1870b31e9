"""The follow-up runner: one pass schedules surveys, settles answers, claims due tasks
and runs each through its channel (``channels.py``). APScheduler wakes it
(``compose`` adds the job, ``install_job``); ``callcenter followups run-due`` runs one
pass by hand.

Store work runs in worker threads (sync sessions must not block the loop); sends are
awaited on the loop. Each task moves through explicit states:

    pending --claim--> claimed --intent written--> claimed(phase sending/calling)
        --sent--> waiting (SMS: reply window; call: IVR result) | done
        --failed--> pending (backoff) | failed | skipped (policy, for good)
    waiting --due--> claimed --> escalate (SMS -> survey call) or retry

Crash windows (what a restart does; see docs/followups.md):
* after claim, before the intent: the lease runs out, another pass claims and sends.
* after the intent, before the send returns: the next claimer sees phase
  ``sending``/``calling`` and does NOT send blindly: an SMS is looked up in the SMS log
  (sent -> waiting; never started -> send; unknown -> treated as sent: at most once),
  a call counts as an attempt made.
* after the send, before the outcome is written: same as above (SMS log says sent).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.followups.callbacks import place_callback
from callcenter.followups.channels import Channels
from callcenter.followups.config import RunnerConfig
from callcenter.followups.escalations import escalate_overdue
from callcenter.followups.models import TaskKind
from callcenter.followups.policy import ContactPolicy
from callcenter.followups.ports import Originator, QueueView, SurveySms
from callcenter.followups.steps import LostClaim
from callcenter.followups.store import TaskView, claim_due, load_view
from callcenter.followups.surveys import close_unsurveyed, schedule_surveys, settle_answered
from callcenter.reference.hours import Hours

log = logging.getLogger(__name__)
T = TypeVar("T")

JOB_ID = "followups"


@dataclass
class RunReport:
    """What one pass did (logged, printed by the CLI)."""

    scheduled: int = 0
    escalated: int = 0
    settled: dict[int, str] = field(default_factory=dict)
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {"scheduled": self.scheduled, "escalated": self.escalated,
                "settled": len(self.settled),
                "claimed": self.claimed, **self.outcomes}


class FollowupRunner:
    """Runs due follow-ups. ``sms``/``actions``/``queue_state`` may be None: the kinds
    that need them are then left for later (or for the agents)."""

    def __init__(
        self, *, engine: Engine, config: RunnerConfig, policy: ContactPolicy,
        sms: SurveySms | None = None, actions: Originator | None = None,
        queue_state: QueueView | None = None, calendar: Hours | None = None,
        clock: Callable[[], datetime] = utcnow, owner: str | None = None,
        durable_sms: bool = False,
    ) -> None:
        """``durable_sms``: the survey SMS is queued as a citizen message in the task's
        transaction and sent by the message delivery (``serve``); otherwise ``sms``
        sends it here, with the intent/recovery steps below."""

        self.engine = engine
        self.config = config
        self.policy = policy
        self.sms = sms
        self.durable_sms = durable_sms
        self.actions = actions
        self.queue_state = queue_state
        self.calendar = calendar  # opening hours: working-hours deadlines
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.channels = Channels(self)
        self._lock = asyncio.Lock()
        self.last_report: RunReport | None = None

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in a committed session on a worker thread."""
        def run() -> T:
            with session_scope(self.engine) as session:
                return work(session)

        return await asyncio.to_thread(run)

    def runner_kinds(self) -> list[str]:
        kinds: list[str] = [TaskKind.SURVEY_SMS]
        if self.actions is not None:
            kinds.append(TaskKind.SURVEY_CALL)
            if self.config.auto_callbacks and self.queue_state is not None:
                kinds += [TaskKind.CALLBACK, TaskKind.ABANDONED]
        return kinds

    async def run_due(self) -> RunReport:
        """One pass; passes of one runner never overlap (APScheduler also coalesces)."""
        async with self._lock:
            report = RunReport()
            self.channels.used_agents.clear()
            now = self.clock()
            cfg = self.config
            report.scheduled = await self.db(lambda s: schedule_surveys(
                session=s, now=now, delay=cfg.survey_delay, lookback=cfg.lookback))
            report.escalated = await self.db(lambda s: escalate_overdue(
                session=s, now=now, levels=cfg.escalation_levels, calendar=self.calendar))
            report.settled = await self.db(lambda s: settle_answered(session=s, now=now))
            report.settled.update(await self.db(lambda s: close_unsurveyed(
                session=s, now=now, after=cfg.close_unsurveyed_after)))
            ids = await self.db(lambda s: claim_due(
                session=s, owner=self.owner, now=now, lease=cfg.lease,
                kinds=self.runner_kinds(), limit=cfg.batch))
            report.claimed = len(ids)
            for task_id in ids:
                view = await self.db(lambda s, i=task_id: load_view(  # type: ignore[misc]
                    session=s, task_id=i, owner=self.owner))
                if view is None:
                    report.count("lost-claim")
                    continue
                try:
                    report.count(await self.run_task(view))
                except LostClaim:
                    report.count("lost-claim")
                except Exception:  # one bad task must not stop the others
                    log.exception("follow-up task %s (%s) failed", view.id, view.kind)
                    report.count("error")
            if report.claimed or report.scheduled or report.settled or report.escalated:
                log.info("follow-ups: %s", report.as_dict())
            self.last_report = report
            return report

    async def place_next_callback(self, agent: str) -> bool:
        """An agent's wrap-up ends (still paused in the queue): the oldest due callback
        rings this agent if its caller joined before the live queue's head. True when
        a call was placed (the wrap-up part then unpauses a moment later: a ringing or
        busy phone is not rung by the queue, ``ringinuse = no``)."""
        if (self.actions is None or self.queue_state is None or not self.config.auto_callbacks
                or self._lock.locked()):
            return False  # a pass is running: it places callbacks itself; never hold the agent
        async with self._lock:
            now, cfg = self.clock(), self.config
            ids = await self.db(lambda s: claim_due(
                session=s, owner=self.owner, now=now, lease=cfg.lease,
                kinds=[TaskKind.CALLBACK, TaskKind.ABANDONED], limit=1))
            if not ids:
                return False
            view = await self.db(lambda s: load_view(session=s, task_id=ids[0],
                                                     owner=self.owner))
            if view is None:
                return False
            try:
                return await place_callback(self.channels, view, agent=agent) == "sent"
            except LostClaim:
                return False

    async def run_task(self, view: TaskView) -> str:
        """Run one claimed task through its channel; returns an outcome word."""
        if view.kind == TaskKind.SURVEY_SMS:
            return await self.channels.survey_sms(view)
        if view.kind == TaskKind.SURVEY_CALL:
            return await self.channels.survey_call(view)
        if view.kind in (TaskKind.CALLBACK, TaskKind.ABANDONED):
            return await self.channels.callback(view)
        return await self.channels.release(view, reason="not-automatic")


def install_job(*, scheduler: AsyncIOScheduler, runner: FollowupRunner,
                interval_seconds: float) -> None:
    """Wake ``runner.run_due`` every ``interval_seconds`` (never two passes at once)."""
    scheduler.add_job(runner.run_due, "interval", id=JOB_ID, seconds=interval_seconds,
                      max_instances=1, coalesce=True, replace_existing=True)
