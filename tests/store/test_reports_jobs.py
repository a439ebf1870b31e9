"""Report jobs on every backend: a background export goes pending -> running -> done with
its progress written, its file readable; a bad filter is refused before any row; an
unknown table fails the job with a reason. The monthly PDF: last Jalali month, built by
exactly one of two instances that wake together, and taken over when a builder's lease
ran out."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from callcenter.callrecords.models import Call
from callcenter.db.engine import session_scope
from callcenter.errors import InvalidInput
from callcenter.reports.jobs import ReportJobs, previous_month
from callcenter.reports.models import JobKind, JobState, ReportJob
from callcenter.reports.schemas import ReportQuery
from callcenter.settings import Settings

NOW = datetime(2025, 3, 21, 9, 0, tzinfo=UTC)  # 1404-01-01 12:30 in Tehran


class Watched(ReportJobs):
    """The real jobs, noting each progress write (to see the steps a job went through)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.steps: list[tuple[int, str]] = []

    def _progress(self, key: str, percent: int, step: str) -> None:
        super()._progress(key, percent, step)
        with session_scope(self.engine) as session:
            row = session.exec(select(ReportJob).where(ReportJob.key == key)).one()
            assert row.state == JobState.RUNNING
            self.steps.append((row.progress, row.step))


def jobs_for(engine: Engine, tmp_path: Path, owner: str = "a", **kw: object) -> Watched:
    settings = Settings(environment="test", ami_enabled=False, data_dir=tmp_path)
    return Watched(engine=engine, settings=settings, owner=owner, clock=lambda: NOW, **kw)


def add_calls(engine: Engine) -> None:
    with session_scope(engine) as session:
        for n, outcome in enumerate(("answered", "answered", "abandoned")):
            session.add(Call(linkedid=f"j{n}", uniqueid=f"j{n}", caller="+989131234567",
                             entered_at=datetime(2025, 3, 1, 10, n, tzinfo=UTC),
                             outcome=outcome, wait_seconds=10, talk_seconds=60))


def test_previous_jalali_month() -> None:
    assert previous_month(NOW, "Asia/Tehran") == "1403-12"
    # 1404-01-01 00:10 local is still 1403-12-30 in UTC: the local day counts.
    assert previous_month(datetime(2025, 3, 20, 20, 40, tzinfo=UTC), "Asia/Tehran") == "1403-12"
    assert previous_month(datetime(2025, 3, 20, 20, 20, tzinfo=UTC), "Asia/Tehran") == "1403-11"
    assert previous_month(datetime(2026, 11, 22, 12, tzinfo=UTC), "Asia/Tehran") == "1405-08"


def test_export_job_progress_and_file(engine: Engine, tmp_path: Path) -> None:
    add_calls(engine)
    jobs = jobs_for(engine, tmp_path)
    key = jobs.submit_export(report="contact", query=ReportQuery.model_validate(
        {"month": "1403-12"}), table="contact_total", fmt="csv", language="en", user_id=None)
    jobs.futures[key].result(timeout=60)
    job = jobs.get(key)
    assert job is not None and job.state == JobState.DONE and job.progress == 100
    assert [step for _, step in jobs.steps] == ["report", "file"]
    assert [p for p, _ in jobs.steps] == sorted(p for p, _ in jobs.steps)
    assert job.file_name == f"export-{key}.csv"
    text = (tmp_path / "reports" / job.file_name).read_bytes().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Period total"] and ["Report period", "1403-12-01 - 1403-12-30"] in lines
    header = next(line for line in lines if line and line[0] == "Offered")
    row = lines[lines.index(header) + 1]
    assert (row[0], row[1], row[2]) == ("3", "2", "1")


def test_whole_report_as_one_workbook(engine: Engine, tmp_path: Path) -> None:
    import zipfile

    add_calls(engine)
    jobs = jobs_for(engine, tmp_path)
    key = jobs.submit_export(report="contact", query=ReportQuery.model_validate(
        {"month": "1403-12"}), table=None, fmt="xlsx", language="fa", user_id=None)
    jobs.futures[key].result(timeout=60)
    job = jobs.get(key)
    assert job is not None and job.state == JobState.DONE
    with zipfile.ZipFile(tmp_path / "reports" / str(job.file_name)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 3  # contact_total, contact_series, contact_queues
        assert 'rightToLeft="1"' in book.read("xl/worksheets/sheet1.xml").decode()
    assert ("table 3" in [s for _, s in jobs.steps]) and jobs.steps[-1][0] == 95


def test_bad_filter_is_refused_and_unknown_table_fails(engine: Engine, tmp_path: Path) -> None:
    jobs = jobs_for(engine, tmp_path)
    with pytest.raises(InvalidInput, match="no such Jalali month"):
        jobs.submit_export(report="contact", query=ReportQuery.model_validate(
            {"month": "1403-13"}), table=None, fmt="csv", language="en", user_id=None)
    with session_scope(engine) as session:
        assert session.exec(select(ReportJob)).all() == []
    key = jobs.submit_export(report="contact", query=ReportQuery(), table="nope", fmt="csv",
                             language="en", user_id=None)
    jobs.futures[key].result(timeout=60)
    job = jobs.get(key)
    assert job is not None and job.state == JobState.FAILED and "nope" in str(job.error)


def test_monthly_built_once_by_two_instances(engine: Engine, tmp_path: Path) -> None:
    add_calls(engine)
    first, second = jobs_for(engine, tmp_path, "a"), jobs_for(engine, tmp_path, "b")
    results: list[str | None] = []
    barrier = threading.Barrier(2)

    def wake(jobs: ReportJobs) -> None:
        barrier.wait()
        results.append(jobs.ensure_monthly())

    threads = [threading.Thread(target=wake, args=(j,)) for j in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results, key=str) == ["1403-12", None]
    with session_scope(engine) as session:
        (row,) = session.exec(select(ReportJob)).all()
    assert (row.key, row.kind, row.state, row.progress) == (
        "monthly:1403-12", JobKind.MONTHLY, JobState.DONE, 100)
    assert row.claimed_by in ("a", "b") and row.file_name == "report-1403-12.pdf"
    assert (tmp_path / "reports" / "report-1403-12.pdf").read_bytes().startswith(b"%PDF")
    assert first.monthly_done() == ["report-1403-12.pdf"]
    # Woken again (the next hour): built already, nothing to do.
    assert first.ensure_monthly() is None and second.ensure_monthly() is None


def test_monthly_taken_over_when_the_lease_ran_out(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        session.add(ReportJob(key="monthly:1403-12", kind=JobKind.MONTHLY,
                              state=JobState.RUNNING, claimed_by="dead",
                              claimed_until=NOW + timedelta(minutes=5)))
    jobs = jobs_for(engine, tmp_path, "b")
    assert jobs.ensure_monthly() is None  # the lease still runs: left to its builder
    with session_scope(engine) as session:
        row = session.exec(select(ReportJob)).one()
        row.claimed_until = NOW - timedelta(seconds=1)
        session.add(row)
    assert jobs.ensure_monthly() == "1403-12"
    with session_scope(engine) as session:
        row = session.exec(select(ReportJob)).one()
    assert (row.state, row.claimed_by) == (JobState.DONE, "b")


def test_hourly_finishes_orphaned_exports_and_purges_old_ones(engine: Engine,
                                                              tmp_path: Path) -> None:
    add_calls(engine)
    query = {"month": "1403-12"}
    params = {"report": "contact", "query": query, "table": "contact_total", "format": "csv",
              "language": "en"}
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / f"export-{'0' * 32}.csv").write_text("old")
    with session_scope(engine) as session:
        session.add_all([
            # Left running by a process that died 20 minutes ago (its lease ran out).
            ReportJob(key="a" * 32, kind=JobKind.EXPORT, state=JobState.RUNNING,
                      params=params, claimed_by="dead", created_at=NOW - timedelta(minutes=20),
                      claimed_until=NOW - timedelta(minutes=1)),
            # Just submitted by another instance: its own worker will run it.
            ReportJob(key="b" * 32, kind=JobKind.EXPORT, params=params,
                      created_at=NOW - timedelta(minutes=1)),
            # Done eight days ago: deleted with its file.
            ReportJob(key="0" * 32, kind=JobKind.EXPORT, state=JobState.DONE, params=params,
                      file_name=f"export-{'0' * 32}.csv", created_at=NOW - timedelta(days=8)),
            ReportJob(key="monthly:1403-12", kind=JobKind.MONTHLY, state=JobState.DONE)])
    jobs = jobs_for(engine, tmp_path)
    jobs.hourly()
    with session_scope(engine) as session:
        states = {j.key: j.state for j in session.exec(select(ReportJob)).all()}
    assert states == {"a" * 32: JobState.DONE, "b" * 32: JobState.PENDING,
                      "monthly:1403-12": JobState.DONE}
    assert (tmp_path / "reports" / f"export-{'a' * 32}.csv").exists()
    assert not (tmp_path / "reports" / f"export-{'0' * 32}.csv").exists()
