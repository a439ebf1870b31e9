"""Call records: written once per linkedid, linked to their request, follow-up tasks for
abandoned calls, and recovered from Asterisk's CDR and queue_log after an outage."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.callrecords.models import Call
from callcenter.callrecords.recorder import CallRecorder, count_calls
from callcenter.callrecords.recovery import parse_queue_log, recover_calls
from callcenter.callrecords.services import record_call
from callcenter.calls.events import CallEnded, Outcome, Transfer, TransferKind
from callcenter.cases.services import add_event, create_request
from callcenter.followups.models import Task
from callcenter.settings import Settings

LOGS = Path(__file__).resolve().parents[1] / "data" / "asterisk-logs"


def ended(linkedid: str = "1700000000.1", **kw: object) -> CallEnded:
    values: dict[str, object] = dict(
        linkedid=linkedid, at=1700000100.0, outcome=Outcome.ANSWERED, caller="09131234567",
        caller_name="مریم", parties=("09131234567", "2101"), answered_by="2101",
        transfers=(), queue="citizen-requests", started_at=1700000000.0,
        answered_at=1700000030.0, ended_at=1700000100.0, wait_seconds=25.0,
        talk_seconds=70.0, hangup_by="09131234567", ivr_path=("menu:0",),
    )
    values.update(kw)
    return CallEnded(**values)  # type: ignore[arg-type]


def test_record_is_written_once_per_linkedid(session: Session) -> None:
    first = record_call(session=session, ended=ended())
    again = record_call(session=session, ended=ended(outcome=Outcome.ABANDONED))
    session.commit()
    assert again.id == first.id
    calls = session.exec(select(Call)).all()
    assert len(calls) == 1
    call = calls[0]
    assert (call.outcome, call.agent, call.wait_seconds, call.talk_seconds) == (
        "answered", "2101", 25.0, 70.0)
    assert call.ivr_path == "menu:0"
    assert call.caller_name == "مریم" and call.citizen_id is not None


def test_call_links_to_request_filed_during_the_call(session: Session) -> None:
    request = create_request(session=session, phone="09131234567", channel="phone",
                             category_code="waste")
    contact = add_event(session=session, request=request, kind="contact", channel="phone",
                        data={"linkedid": "1700000000.1"})
    session.flush()
    contact.at = contact.at.replace(year=2023, month=11, day=14, hour=22, minute=13)
    call = record_call(session=session, ended=ended(
        transfers=(Transfer(kind=TransferKind.BLIND, from_party="2101", to="2102",
                            at=1700000050.0),)))
    session.commit()
    assert call.request_id == request.id
    assert contact.call_id == call.id
    assert call.details is not None
    assert call.details["transfers"][0]["to"] == "2102"


def test_call_links_to_request_named_in_the_ivr(session: Session) -> None:
    request = create_request(session=session, phone="09131234567", channel="sms",
                             category_code="parks")
    call = record_call(session=session, ended=ended(request_code=request.tracking_code))
    assert call.request_id == request.id


def test_abandoned_queue_call_becomes_one_task(session: Session) -> None:
    abandoned = ended(outcome=Outcome.ABANDONED, answered_by=None, answered_at=None,
                      talk_seconds=0.0)
    record_call(session=session, ended=abandoned)
    record_call(session=session, ended=abandoned)
    session.commit()
    tasks = session.exec(select(Task)).all()
    assert [(t.kind, t.call_linkedid) for t in tasks] == [("abandoned", "1700000000.1")]


def test_anonymous_caller_is_recorded_without_citizen(session: Session) -> None:
    call = record_call(session=session, ended=ended(caller="anonymous", outcome=Outcome.IVR_ONLY))
    assert call.citizen_id is None and call.outcome == "ivr_only"


def test_queue_log_parser_survives_garbage() -> None:
    """Tried: a line without fields, a truncated line, a non-numeric time and hold."""
    trails = parse_queue_log((LOGS / "queue_log").read_text())
    assert trails["1795870434.0"].agent == "2101"
    assert trails["1795870434.0"].talk == 13.0
    assert trails["1795870453.2"].outcome == Outcome.ABANDONED
    assert trails["1795870560.9"].outcome == Outcome.CALLBACK
    assert trails["1795870560.9"].connected is None


def test_recovery_reads_real_cdr_and_queue_log_formats() -> None:
    calls = {c.linkedid: c for c in recover_calls(
        cdr_file=LOGS / "cdr-csv" / "Master.csv", queue_log=LOGS / "queue_log",
        context="citizens", since=0)}
    assert set(calls) == {"1795870434.0", "1795870453.2", "1795870494.7", "1795870560.9"}
    answered = calls["1795870434.0"]
    assert (answered.outcome, answered.answered_by, answered.wait_seconds) == (
        Outcome.ANSWERED, "2101", 10.0)
    assert answered.started_at < answered.ended_at
    assert calls["1795870453.2"].outcome == Outcome.ABANDONED
    assert calls["1795870453.2"].caller_name == "رضا"
    assert calls["1795870494.7"].outcome == Outcome.IVR_ONLY
    assert calls["1795870494.7"].ivr_path == ("menu:1", "category:3", "recorded")
    assert calls["1795870560.9"].outcome == Outcome.CALLBACK


def test_recovery_stores_missing_calls_once(engine: Engine, tmp_path: Path) -> None:
    logs = tmp_path / "asterisk"
    shutil.copytree(LOGS, logs)
    settings = Settings(pbx_log_dir=logs, recovery_lookback_hours=10**6, data_dir=tmp_path)
    recorder = CallRecorder(engine=engine, settings=settings)
    # the live bridge already recorded one of them before it went down
    asyncio.run(recorder.on_call_ended(ended(linkedid="1795870434.0",
                                             started_at=1795870434.0, ended_at=1795870458.0)))
    assert asyncio.run(recorder.recover()) == 3
    assert asyncio.run(recorder.recover()) == 0
    assert count_calls(engine) == 4
    with Session(engine) as session:
        sources = {c.linkedid: c.source for c in session.exec(select(Call)).all()}
    assert sources["1795870434.0"] == "ami"
    assert sources["1795870453.2"] == "recovery"


def test_call_ended_unseen_is_stored_from_asterisks_records(
    engine: Engine, tmp_path: Path
) -> None:
    """A call the tracker ended at a resync (AMI away at its hangup) is stored with the
    queue_log's wait, not the tracker's wait that ran until the resync."""
    logs = tmp_path / "asterisk"
    shutil.copytree(LOGS, logs)
    settings = Settings(pbx_log_dir=logs, recovery_lookback_hours=10**6, data_dir=tmp_path)
    recorder = CallRecorder(engine=engine, settings=settings)
    asyncio.run(recorder.on_call_ended(ended(
        linkedid="1795870453.2", outcome=Outcome.ABANDONED, answered_by=None,
        answered_at=None, wait_seconds=600.0, talk_seconds=0.0, end_seen=False)))
    with Session(engine) as session:
        call = session.exec(select(Call).where(Call.linkedid == "1795870453.2")).one()
    assert (call.source, call.outcome) == ("recovery", "abandoned")
    assert call.wait_seconds is not None and call.wait_seconds < 600
    assert count_calls(engine) == 4  # the other calls the records held came along
