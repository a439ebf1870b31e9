"""Recording retention: recordings older than ``recording_retention_days`` are deleted,
the request forgets the path, and its history says so (event ``recording_removed``).

One request at a time: the file goes first, then the path and the event commit. A crash
between the two leaves a path to a deleted file (the route answers 404
``recording-missing``) and the next run finishes it: deleting an absent file is done.
A file this host cannot see (the PBX on another host, no mount) is reported in the event
as ``not-on-this-host``: the PBX's own clean-up must remove it there.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import add_event
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.media.exceptions import RecordingMissing
from callcenter.media.recordings import local_path
from callcenter.settings import Settings

log = logging.getLogger(__name__)
JOB_ID = "recording-retention"
BATCH = 200


@dataclass
class RetentionReport:
    removed: list[str] = field(default_factory=list)  # tracking codes
    not_on_this_host: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def remove_expired(*, session: Session, settings: Settings, now: datetime,
                   report: RetentionReport | None = None) -> RetentionReport:
    """One batch of expired recordings (the caller commits)."""
    report = report or RetentionReport()
    days = settings.recording_retention_days
    if days <= 0:
        return report
    cutoff = now - timedelta(days=days)
    expired = session.exec(
        select(CitizenRequest).where(col(CitizenRequest.recording_path).is_not(None))
        .where(col(CitizenRequest.created_at) < cutoff)
        .order_by(col(CitizenRequest.created_at)).limit(BATCH)).all()
    for request in expired:
        assert request.recording_path is not None
        where = _delete(settings, request.recording_path)
        if where == "failed":
            report.failed.append(request.tracking_code)
            continue
        name = request.recording_path.rsplit("/", 1)[-1]
        request.recording_path = None
        session.add(request)
        add_event(session=session, request=request, kind="recording_removed",
                  actor="retention", data={"file": name, "retention_days": days,
                                           "where": where})
        (report.removed if where == "deleted" else report.not_on_this_host).append(
            request.tracking_code)
    return report


def _delete(settings: Settings, stored: str) -> str:
    """``deleted`` (or already gone), ``not-on-this-host``, or ``failed`` (kept)."""
    try:
        path = local_path(settings, stored)
    except RecordingMissing:  # not a name the IVR writes: nothing of ours to delete
        return "not-on-this-host"
    try:
        path.unlink()
    except FileNotFoundError:
        return "not-on-this-host" if settings.recordings_fetch_url else "deleted"
    except OSError as exc:
        log.warning("recording %s could not be deleted: %s", path.name, type(exc).__name__)
        return "failed"
    return "deleted"


class RecordingRetention:
    """The scheduled job: ``run`` removes every expired recording, batch by batch."""

    def __init__(self, *, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.last_report: RetentionReport | None = None

    def run_once(self) -> RetentionReport:
        report = RetentionReport()
        while True:
            before = len(report.removed) + len(report.not_on_this_host)
            with session_scope(self.engine) as session:
                remove_expired(session=session, settings=self.settings, now=utcnow(),
                               report=report)
            if len(report.removed) + len(report.not_on_this_host) - before < BATCH:
                break
        if report.removed or report.not_on_this_host or report.failed:
            log.info("recording retention: %d removed, %d not on this host, %d failed",
                     len(report.removed), len(report.not_on_this_host), len(report.failed))
        self.last_report = report
        return report

    async def run(self) -> None:
        await asyncio.to_thread(self.run_once)


def install_job(*, scheduler: AsyncIOScheduler, retention: RecordingRetention,
                interval_seconds: float) -> None:
    scheduler.add_job(retention.run, "interval", id=JOB_ID, seconds=interval_seconds,
                      max_instances=1, coalesce=True, replace_existing=True)
