"""Recording retention on SQLite and PostgreSQL: expired files deleted, the path
forgotten, a history event written; younger ones and a 0-day setting untouched."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.intake.services import file_request
from callcenter.media.retention import RecordingRetention
from callcenter.settings import Settings

PBX = "/var/spool/asterisk/recording"


def _file(engine: Engine, name: str, age_days: float, category: str) -> int:
    with session_scope(engine) as session:
        request = file_request(session=session, phone="09131234567", channel="phone",
                               category_code=category, recording_path=f"{PBX}/{name}").request
        request.created_at = utcnow() - timedelta(days=age_days)
        session.add(request)
        session.flush()
        assert request.id is not None
        return request.id


def test_expired_recordings_are_removed_and_the_history_says_so(
        engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    folder.mkdir()
    for name in ("request-old.wav", "request-new.wav"):
        (folder / name).write_bytes(b"RIFF")
    old = _file(engine, "request-old.wav", 40, "waste")
    new = _file(engine, "request-new.wav", 5, "parks")
    gone = _file(engine, "request-gone.wav", 50, "streets")  # already deleted by hand
    settings = Settings(database_url=str(engine.url), recordings_dir=folder,
                        recording_retention_days=30)
    report = RecordingRetention(engine=engine, settings=settings).run_once()
    assert len(report.removed) == 2 and report.failed == []
    assert not (folder / "request-old.wav").exists() and (folder / "request-new.wav").exists()
    with Session(engine) as session:
        paths = {r.id: r.recording_path for r in session.exec(select(CitizenRequest)).all()}
        assert paths == {old: None, new: f"{PBX}/request-new.wav", gone: None}
        events = session.exec(select(RequestEvent).where(
            RequestEvent.kind == "recording_removed")).all()
        assert sorted(e.request_id for e in events) == sorted([old, gone])
        assert all(e.actor == "retention" and e.data and e.data["retention_days"] == 30
                   for e in events)
    again = RecordingRetention(engine=engine, settings=settings).run_once()
    assert again.removed == []  # nothing twice, no second event


def test_zero_days_keeps_everything(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "request-1.wav").write_bytes(b"RIFF")
    _file(engine, "request-1.wav", 4000, "waste")
    settings = Settings(database_url=str(engine.url), recordings_dir=tmp_path)
    assert RecordingRetention(engine=engine, settings=settings).run_once().removed == []
    assert (tmp_path / "request-1.wav").exists()


def test_serve_schedules_the_retention_job_only_when_set(tmp_path: Path) -> None:
    from callcenter.compose import compose
    from callcenter.parts import SchedulerPart

    def jobs(**overrides: object) -> list[str]:
        settings = Settings(environment="test", data_dir=tmp_path, ami_enabled=False,
                            agi_port=0, **overrides)  # type: ignore[arg-type]
        composition = compose(settings)
        [scheduler] = [p for p in composition.parts if isinstance(p, SchedulerPart)]
        found = [job.id for job in scheduler.scheduler.get_jobs()]
        composition.services.engine.dispose()
        return found

    assert "recording-retention" in jobs(recording_retention_days=30)
    assert "recording-retention" not in jobs()
