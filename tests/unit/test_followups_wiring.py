"""Follow-ups wiring: the APScheduler job, the settings block, the operators' CLI."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import ValidationError
from typer.testing import CliRunner

from callcenter.app import Container, prepare_store
from callcenter.cases.models import RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.cli import app as cli_app
from callcenter.db.engine import build_engine, session_scope
from callcenter.followups.engine import JOB_ID, EngineConfig, install_followups
from callcenter.notifier import Notifier
from callcenter.runtime import Runtime
from callcenter.settings import Settings


def container(tmp_path: Path, **overrides: Any) -> Container:
    settings = Settings(environment="test", data_dir=tmp_path, **overrides)
    return Container(settings=settings, engine=build_engine(settings.database_url),
                     notifier=Notifier(), runtime=Runtime([]))


def test_install_adds_one_interval_job_with_the_configured_period(tmp_path: Path) -> None:
    box = container(tmp_path, followups_interval_seconds=12, auto_callbacks=True)
    scheduler = AsyncIOScheduler()
    box.extras["scheduler"] = scheduler
    box.ami_actions, box.queue_state = object(), object()
    engine = install_followups(box)
    assert engine is not None and box.extras["followups"] is engine
    [job] = scheduler.get_jobs()
    assert job.id == JOB_ID and job.trigger.interval.total_seconds() == 12
    assert job.max_instances == 1 and job.coalesce
    assert engine.engine_kinds() == ["survey_sms", "survey_call", "callback", "abandoned"]
    box.engine.dispose()


def test_install_is_a_no_op_when_disabled_or_without_a_scheduler(tmp_path: Path) -> None:
    box = container(tmp_path, followups_enabled=False)
    box.extras["scheduler"] = AsyncIOScheduler()
    assert install_followups(box) is None
    assert box.extras["scheduler"].get_jobs() == []
    assert install_followups(container(tmp_path)) is None  # web-only: no scheduler
    box.engine.dispose()


def test_without_ami_only_sms_surveys_are_claimed(tmp_path: Path) -> None:
    box = container(tmp_path, auto_callbacks=True)
    box.extras["scheduler"] = AsyncIOScheduler()
    engine = install_followups(box)
    assert engine is not None and engine.engine_kinds() == ["survey_sms"]
    box.engine.dispose()


def test_settings_block_defaults_and_validation(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    assert (settings.calling_hours_start, settings.calling_hours_end) == (time(9), time(20))
    assert settings.auto_callbacks is False and settings.survey_call_max_attempts == 3
    config = EngineConfig.from_settings(settings)
    assert config.call_max_attempts == 3 and config.trunk == "citizens"
    with pytest.raises(ValidationError, match="calling_hours_start"):
        Settings(environment="test", data_dir=tmp_path, calling_hours_start=time(20),
                 calling_hours_end=time(9))
    with pytest.raises(ValidationError):
        Settings(environment="test", data_dir=tmp_path, survey_call_max_attempts=0)


def test_cli_run_due_schedules_and_list_shows_the_survey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "test")
    engine = build_engine(f"sqlite:///{tmp_path / 'callcenter.db'}")
    prepare_store(engine)
    with session_scope(engine) as session:
        request = create_request(session=session, phone="09131234567", channel="web",
                                 category_code="waste")
        change_status(session=session, request=request, to_status=RequestStatus.RESOLVED,
                      actor="dept")
    engine.dispose()
    runner = CliRunner()
    ran = runner.invoke(cli_app, ["followups", "run-due"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output.strip().splitlines()[-1])["scheduled"] == 1
    listed = runner.invoke(cli_app, ["followups", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.output.strip().splitlines()]
    assert (row["kind"], row["state"], row["attempts"]) == ("survey_sms", "pending", 0)
    text = runner.invoke(cli_app, ["followups", "list"])
    assert "1 open follow-up(s)" in text.output
