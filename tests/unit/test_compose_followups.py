"""Follow-ups as composed: the APScheduler job, the settings block, the operators' CLI."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import ValidationError
from typer.testing import CliRunner

from callcenter.cases.models import RequestStatus
from callcenter.cases.services import change_status, create_request
from callcenter.cli import app as cli_app
from callcenter.compose import Composition, compose, prepare_store
from callcenter.db.engine import build_engine, session_scope
from callcenter.followups.config import RunnerConfig
from callcenter.followups.runner import JOB_ID
from callcenter.parts import SchedulerPart
from callcenter.settings import Settings


def composed(tmp_path: Path, *, telephony: bool = True, **overrides: Any) -> Composition:
    settings = Settings(environment="test", data_dir=tmp_path, **overrides)
    return compose(settings, telephony=telephony)


def scheduler_of(composition: Composition) -> AsyncIOScheduler:
    [part] = [p for p in composition.parts if isinstance(p, SchedulerPart)]
    return part.scheduler


async def test_install_adds_one_interval_job_with_the_configured_period(tmp_path: Path) -> None:
    box = composed(tmp_path, followups_interval_seconds=12, auto_callbacks=True)
    runner = box.services.followups
    assert runner is not None
    # The runner originates on the AMI holder's own connection (a standby instance's
    # events-off login cannot wait for an OriginateResponse); one instance: the bridge's.
    assert runner.actions is box.services.holder_actions is not None
    assert runner.queue_state is box.services.queue_state is not None
    [job] = [j for j in scheduler_of(box).get_jobs() if j.id == JOB_ID]
    assert job.id == JOB_ID and job.trigger.interval.total_seconds() == 12
    assert job.max_instances == 1 and job.coalesce
    assert runner.runner_kinds() == ["survey_sms", "survey_call", "callback", "abandoned"]
    box.services.engine.dispose()


async def test_install_is_a_no_op_when_disabled_or_without_a_scheduler(tmp_path: Path) -> None:
    box = composed(tmp_path, followups_enabled=False)
    assert box.services.followups is None
    assert [j for j in scheduler_of(box).get_jobs() if j.id == JOB_ID] == []
    web_only = composed(tmp_path, telephony=False)  # web-only: no scheduler
    assert web_only.services.followups is None
    assert not [p for p in web_only.parts if isinstance(p, SchedulerPart)]
    box.services.engine.dispose()
    web_only.services.engine.dispose()


async def test_without_ami_only_sms_surveys_are_claimed(tmp_path: Path) -> None:
    box = composed(tmp_path, auto_callbacks=True, ami_enabled=False)
    runner = box.services.followups
    assert runner is not None and runner.runner_kinds() == ["survey_sms"]
    box.services.engine.dispose()


def test_settings_block_defaults_and_validation(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    assert (settings.calling_hours_start, settings.calling_hours_end) == (time(9), time(20))
    # Automatic callbacks are on by default (within opening hours and the policy).
    assert settings.auto_callbacks is True and settings.survey_call_max_attempts == 3
    config = RunnerConfig.from_settings(settings)
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
