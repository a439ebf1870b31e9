"""``callcenter reports monthly 1403-12``: prints each step and writes an RTL PDF into
``data/reports/`` (WeasyPrint, Vazirmatn embedded)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callcenter.app import prepare_store
from callcenter.callrecords.models import Call
from callcenter.cli import app as cli_app
from callcenter.db.engine import build_engine, session_scope


def test_monthly_pdf_with_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "test")
    engine = build_engine(f"sqlite:///{tmp_path / 'callcenter.db'}")
    prepare_store(engine)
    with session_scope(engine) as session:
        session.add(Call(linkedid="p1", uniqueid="p1", entered_at=datetime(2025, 3, 1, 8,
                                                                           tzinfo=UTC),
                         outcome="answered", wait_seconds=12, talk_seconds=80))
    engine.dispose()
    ran = CliRunner().invoke(cli_app, ["reports", "monthly", "1403-12"])
    assert ran.exit_code == 0, ran.output
    assert re.findall(r"\[(\d)/5\]", ran.output) == ["1", "2", "3", "4", "5"]
    pdf = tmp_path / "reports" / "report-1403-12.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 20_000  # charts, tables and the embedded font subset
    bad = CliRunner().invoke(cli_app, ["reports", "monthly", "1403-13"])
    assert bad.exit_code == 1 and "no such Jalali month" in bad.output


def test_serve_schedules_the_monthly_build(tmp_path: Path) -> None:
    """``compose`` wakes ``ReportJobs.wake`` hourly on the scheduler (not when disabled)."""
    from callcenter.compose import compose
    from callcenter.parts import SchedulerPart
    from callcenter.settings import Settings

    def job_ids(**overrides: object) -> list[str]:
        settings = Settings(environment="test", ami_enabled=False, data_dir=tmp_path,
                            database_url=f"sqlite:///{tmp_path / 'c.db'}", **overrides)
        parts = compose(settings).parts
        (scheduler,) = [p for p in parts if isinstance(p, SchedulerPart)]
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        if "reports-monthly" in jobs:
            assert jobs["reports-monthly"].trigger.interval.total_seconds() == 3600
        return sorted(jobs)

    assert "reports-monthly" in job_ids()
    assert "reports-monthly" not in job_ids(reports_monthly_enabled=False)


def test_rollup_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from callcenter.cases.models import CitizenRequest
    from callcenter.citizens.models import Citizen

    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "test")
    ran = CliRunner().invoke(cli_app, ["reports", "rollup"])
    assert ran.exit_code == 0 and "nothing to roll up" in ran.output
    engine = build_engine(f"sqlite:///{tmp_path / 'callcenter.db'}")
    with session_scope(engine) as session:
        citizen = Citizen(phone="+989130000002")
        session.add(citizen)
        session.flush()
        session.add(CitizenRequest(tracking_code="91", citizen_id=citizen.id, channel="sms",
                                   category_code="waste", department_code="waste",
                                   status="new", created_at=datetime(2025, 3, 1, 8, tzinfo=UTC)))
    engine.dispose()
    ran = CliRunner().invoke(cli_app, ["reports", "rollup", "--full"])
    assert ran.exit_code == 0 and "rolled up 2025-03-01 .. " in ran.output, ran.output
