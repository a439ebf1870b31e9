"""Report jobs in the background: long exports and the monthly PDF, each a ``report_job``
row with its progress, built on a worker thread of its own (never on the web's loop).

* An export: ``submit_export`` writes a pending row and hands its key to the worker; the
  page polls ``/api/reports/jobs/{key}`` for the progress and downloads the file when
  the row says ``done``.
* The monthly PDF: the scheduler calls ``ensure_monthly`` (``install_monthly_job``); it
  builds last Jalali month's report when no instance has. The row's unique key
  ``monthly:YYYY-MM`` is the claim, as a follow-up task's claim is: of two instances
  that wake together one inserts, the other sees the row and leaves it; a builder that
  died leaves a lease that runs out, and the next wake takes over. The job runs on
  every wake (hourly), not only on the 1st: a server that was down on the 1st catches up.
* The same wake refreshes the daily request roll-up (``rollups.refresh``).
"""

from __future__ import annotations

import logging
import re
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import jdatetime
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from callcenter.clock import as_utc, utcnow
from callcenter.db.engine import read_scope, session_scope
from callcenter.reference.services import populations
from callcenter.reports.exports import to_csv, to_xlsx, to_xlsx_book
from callcenter.reports.models import JobKind, JobState, ReportJob
from callcenter.reports.schemas import ReportQuery, filters_of
from callcenter.reports.services import build_report
from callcenter.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

MONTHLY_JOB_ID = "reports-monthly"
EXPORT_NAME = re.compile(r"export-[0-9a-f]{32}\.(csv|xlsx)")
_STEP = re.compile(r"\[(\d+)/(\d+)\]\s*(.*)")


def previous_month(now: datetime, timezone: str) -> str:
    """The Jalali month before the local day of ``now``: ``1405-08`` on 1405-09-01."""
    today = jdatetime.date.fromgregorian(date=as_utc(now).astimezone(ZoneInfo(timezone)).date())
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


class ReportJobs:
    """Creates, claims, runs and reads report jobs; one worker thread per process. A
    ``runtime.Part``: ``/health`` shows it ``stalled`` when a job runs past its lease."""

    name = "report_jobs"

    def __init__(self, *, engine: Engine, settings: Settings, owner: str | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 lease: timedelta = timedelta(minutes=30)) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.lease = lease
        self._executor: ThreadPoolExecutor | None = None
        self.futures: dict[str, Future[None]] = {}
        self._started: dict[Future[Any], float] = {}

    @property
    def folder(self) -> Path:
        return self.settings.data_dir / "reports"

    # -- exports ------------------------------------------------------------------------

    def submit_export(self, *, report: str, query: ReportQuery, table: str | None, fmt: str,
                      language: str, user_id: int | None) -> str:
        """A pending export row, handed to the worker; its key. A bad filter raises
        ``InvalidInput`` (422) here, before any row is written."""
        filters_of(query, self.settings, now=self.clock())
        key = uuid.uuid4().hex
        params = {"report": report, "query": query.model_dump(mode="json", by_alias=True,
                                                               exclude_none=True),
                  "table": table, "format": fmt, "language": language}
        with session_scope(self.engine) as session:
            session.add(ReportJob(key=key, kind=JobKind.EXPORT, params=params,
                                  requested_by=user_id, created_at=self.clock()))
        self._submit(key, self.run_export)
        return key

    def _submit(self, key: str, work: Callable[[str], None]) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-jobs")
        self.futures = {k: f for k, f in self.futures.items() if not f.done()}
        self.futures[key] = self._track(self._executor.submit(work, key))

    def _track(self, future: Future[T]) -> Future[T]:
        import time

        self._started = {f: t for f, t in self._started.items() if not f.done()}
        self._started[future] = time.monotonic()
        return future

    def run_export(self, key: str) -> None:
        """Claim the export ``key`` and build its file (on the worker thread)."""
        if not self._claim(key):
            return
        try:
            with session_scope(self.engine) as session:
                job = session.exec(select(ReportJob).where(col(ReportJob.key) == key)).one()
                params = dict(job.params or {})
            query = ReportQuery.model_validate(params["query"])
            filters = filters_of(query, self.settings, now=self.clock())
            self._progress(key, 5, "report")
            with read_scope(self.engine) as session:
                built = build_report(
                    params["report"], session=session, filters=filters, settings=self.settings,
                    now=self.clock(), populations=populations(self.settings.reference_dir),
                    exclude_short=query.exclude_short_abandons)
            tables = built.tables
            if params.get("table"):
                tables = [built.table(params["table"])]
            language, fmt = params["language"], params["format"]
            self._progress(key, 70, "file")
            if fmt == "csv":
                # One CSV: the tables one after another, a blank line between, one BOM.
                body = b"\r\n".join(to_csv(t, filters, language)[0 if i == 0 else 3:]
                                     for i, t in enumerate(tables))
            elif len(tables) == 1:
                body = to_xlsx(tables[0], filters, language)
            else:
                body = to_xlsx_book(tables, filters, language,
                                    progress=lambda i: self._progress(
                                        key, 70 + 25 * i // len(tables), f"table {i}"))
            name = f"export-{key}.{fmt}"
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / name).write_bytes(body)
            self._finish(key, name)
        except KeyError as exc:
            self._fail(key, f"no table {exc}")
        except Exception as exc:
            log.exception("report export %s failed", key)
            self._fail(key, type(exc).__name__)

    # -- the monthly PDF ----------------------------------------------------------------

    def ensure_monthly(self, month: str | None = None) -> str | None:
        """Build ``month``'s PDF (default: last Jalali month) unless it is built or being
        built; the month built, or None."""
        from callcenter.reports.monthly import build_monthly, report_path

        month = month or previous_month(self.clock(), self.settings.timezone)
        key = f"monthly:{month}"
        with session_scope(self.engine) as session:
            found = session.exec(select(ReportJob).where(col(ReportJob.key) == key)).first()
            if found is None:
                try:
                    session.add(ReportJob(key=key, kind=JobKind.MONTHLY, created_at=self.clock(),
                                          params={"month": month}))
                    session.flush()
                except IntegrityError:  # another instance inserted it first
                    session.rollback()
        if not self._claim(key):
            return None
        log.info("reports: building the monthly report %s", month)
        try:
            def progress(line: str) -> None:
                found = _STEP.match(line)
                if found:
                    done, total, step = int(found[1]) - 1, int(found[2]), found[3]
                    self._progress(key, 100 * done // total, step)

            path = build_monthly(engine=self.engine, settings=self.settings, month=month,
                                 now=self.clock(), progress=progress)
            assert path == report_path(self.settings, month)
            self._finish(key, path.name)
        except Exception as exc:
            log.exception("monthly report %s failed", month)
            self._fail(key, type(exc).__name__)
            return None
        return month

    def hourly(self) -> None:
        """Bring the daily roll-up up to yesterday, build last month's PDF if no instance
        has (the roll-up rebuild is idempotent: two instances may both run it), finish
        exports a dead process left, and delete exports older than a week."""
        from callcenter.reports.rollups import refresh

        try:
            refresh(self.engine, timezone=self.settings.timezone, now=self.clock())
        except Exception:
            log.exception("reports: the daily roll-up was not refreshed")
        self.ensure_monthly()
        for key in self.orphaned_exports():
            self.run_export(key)
        self.purge_exports()

    def orphaned_exports(self, *, grace: timedelta = timedelta(minutes=10)) -> list[str]:
        """Exports left unfinished by a process that ended (pending or running, nobody's
        lease running, started more than ``grace`` ago): ``run_export`` claims each."""
        now = self.clock()
        with read_scope(self.engine) as session:
            return list(session.exec(select(ReportJob.key).where(
                col(ReportJob.kind) == JobKind.EXPORT,
                col(ReportJob.state).in_([JobState.PENDING, JobState.RUNNING]),
                or_(col(ReportJob.claimed_until).is_(None),
                    col(ReportJob.claimed_until) < now),
                col(ReportJob.created_at) < now - grace)).all())

    def purge_exports(self, *, keep: timedelta = timedelta(days=7)) -> int:
        """Delete exports (row and file) older than ``keep``; how many."""
        with session_scope(self.engine) as session:
            old = session.exec(select(ReportJob).where(
                col(ReportJob.kind) == JobKind.EXPORT,
                col(ReportJob.created_at) < self.clock() - keep)).all()
            for job in old:
                if job.file_name and EXPORT_NAME.fullmatch(job.file_name):
                    (self.folder / job.file_name).unlink(missing_ok=True)
                session.delete(job)
            return len(old)

    async def wake(self) -> None:
        """The scheduler's job: ``hourly`` on the worker thread."""
        import asyncio

        await asyncio.wrap_future(self._track(self._pool().submit(self.hourly)))

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-jobs")
        return self._executor

    # -- rows ---------------------------------------------------------------------------

    def _claim(self, key: str) -> bool:
        """Take the job: not done, and nobody's lease running. One UPDATE, so of two
        claimers exactly one gets ``rowcount == 1``."""
        now = self.clock()
        with session_scope(self.engine) as session:
            result = session.execute(
                update(ReportJob).where(
                    col(ReportJob.key) == key, col(ReportJob.state) != JobState.DONE,
                    or_(col(ReportJob.claimed_until).is_(None),
                        col(ReportJob.claimed_until) < now),
                ).values(state=JobState.RUNNING, claimed_by=self.owner,
                         claimed_until=now + self.lease, progress=0, step="", error=None))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def _progress(self, key: str, percent: int, step: str) -> None:
        with session_scope(self.engine) as session:
            session.execute(update(ReportJob).where(
                col(ReportJob.key) == key, col(ReportJob.claimed_by) == self.owner,
            ).values(progress=max(0, min(99, percent)), step=step[:80],
                     claimed_until=self.clock() + self.lease))

    def _finish(self, key: str, file_name: str) -> None:
        with session_scope(self.engine) as session:
            session.execute(update(ReportJob).where(col(ReportJob.key) == key).values(
                state=JobState.DONE, progress=100, step="done", file_name=file_name,
                finished_at=self.clock(), claimed_until=None))

    def _fail(self, key: str, error: str) -> None:
        with session_scope(self.engine) as session:
            # The lease stays: a failed monthly job is retried when it runs out.
            session.execute(update(ReportJob).where(col(ReportJob.key) == key).values(
                state=JobState.FAILED, error=error[:200], finished_at=self.clock()))

    def get(self, key: str) -> ReportJob | None:
        with read_scope(self.engine) as session:
            return session.exec(select(ReportJob).where(col(ReportJob.key) == key)).first()

    def monthly_done(self) -> list[str]:
        """File names of the built monthly reports (rows), newest month first."""
        with read_scope(self.engine) as session:
            rows = session.exec(select(ReportJob).where(
                col(ReportJob.kind) == JobKind.MONTHLY,
                col(ReportJob.state) == JobState.DONE)).all()
        return sorted((r.file_name for r in rows if r.file_name), reverse=True)

    def recent_exports(self, user_id: int | None, limit: int = 10) -> list[dict[str, Any]]:
        with read_scope(self.engine) as session:
            rows = session.exec(select(ReportJob).where(
                col(ReportJob.kind) == JobKind.EXPORT, col(ReportJob.requested_by) == user_id,
            ).order_by(col(ReportJob.id).desc()).limit(limit)).all()
        return [job_view(r) for r in rows]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Take no new job; a running one finishes (its row says so) or, cut by the
        process's end, is taken over when its lease runs out."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def health(self) -> dict[str, Any]:
        import time

        running = [t for f, t in self._started.items() if not f.done()]
        oldest = max((time.monotonic() - t for t in running), default=0.0)
        return {"state": "stalled" if oldest > self.lease.total_seconds() else "running",
                "jobs": len(running), "oldest_job_seconds": round(oldest, 1)}


def job_view(job: ReportJob) -> dict[str, Any]:
    """What the page and the API show of a job."""
    params = job.params or {}
    return {"key": job.key, "kind": job.kind, "state": job.state, "progress": job.progress,
            "step": job.step, "error": job.error, "report": params.get("report"),
            "table": params.get("table"), "format": params.get("format"),
            "download": (f"/api/reports/jobs/{job.key}/file"
                         if job.state == JobState.DONE else None)}


def install_monthly_job(*, scheduler: AsyncIOScheduler, jobs: ReportJobs,
                        interval_minutes: float) -> None:
    """Wake ``jobs.wake`` every ``interval_minutes``, the first time one interval after
    start (a short-lived process - a test's server - never builds a PDF)."""
    scheduler.add_job(jobs.wake, "interval", id=MONTHLY_JOB_ID, minutes=interval_minutes,
                      max_instances=1, coalesce=True, replace_existing=True)
