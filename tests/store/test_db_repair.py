"""``callcenter db repair``: a store seeded with what issue 21 left behind (a ``new``
request with no history and no outbox item, a request never queued for Shahrbin, an
abandoned call without its follow-up task) beside healthy rows; both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nested_support import abandoned_call, counts
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from callcenter.callrecords.models import Call
from callcenter.callrecords.services import record_call
from callcenter.calls.events import Outcome
from callcenter.cases.models import CitizenRequest, RequestStatus
from callcenter.cases.services import create_request, history
from callcenter.cases.tracking import generate_code
from callcenter.citizens.services import get_or_create_citizen
from callcenter.cli import app as cli_app
from callcenter.db.repair import (
    NO_CREATED_EVENT,
    NO_FOLLOW_UP_TASK,
    NO_OUTBOX_ITEM,
    Damage,
    find_damage,
    repair,
)
from callcenter.followups.models import Task
from callcenter.intake.services import file_request
from callcenter.outbox.models import OutboxItem

FILED_AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def seed(engine: Engine) -> dict[str, CitizenRequest | Call]:
    """Healthy rows and damaged ones, committed; returns the damaged ones."""
    with Session(engine, expire_on_commit=False) as session:
        file_request(session=session, phone="09135550201", channel="web", category_code="parks")
        record_call(session=session, ended=abandoned_call("1700000000.1", "09135550202"))
        record_call(session=session, ended=abandoned_call("1700000000.2", ""))  # anonymous
        citizen = get_or_create_citizen(session=session, phone="09135550203")
        # What a rolled-back filing kept: the request row as first inserted, nothing else.
        ghost = CitizenRequest(
            tracking_code=generate_code(), channel="phone", category_code="streets",
            department_code="streets", citizen_id=citizen.id,  # type: ignore[arg-type]
            status=RequestStatus.NEW, deadline_at=FILED_AT + timedelta(hours=72),
            created_at=FILED_AT, updated_at=FILED_AT)
        # Filed with its history but never queued (the outbox line was rolled back).
        unsent = create_request(session=session, phone="09135550204", channel="sms",
                                category_code="waste")
        # What a rolled-back call record kept: the call, not its follow-up task.
        orphan = Call(linkedid="1700000000.3", uniqueid="1700000000.3", citizen_id=citizen.id,
                      queue="citizen-requests", entered_at=FILED_AT,
                      outcome=str(Outcome.ABANDONED))
        session.add_all([ghost, orphan])
        session.commit()
    return {"ghost": ghost, "unsent": unsent, "orphan": orphan}


def test_the_check_finds_exactly_what_was_left_behind(engine: Engine) -> None:
    """Tried: healthy filing, healthy and anonymous abandoned calls, three kinds of damage.
    Expect the damage listed, by tracking code and linkedid, nothing healthy."""
    rows = seed(engine)
    ghost, unsent, orphan = rows["ghost"], rows["unsent"], rows["orphan"]
    assert isinstance(ghost, CitizenRequest) and isinstance(unsent, CitizenRequest)
    with Session(engine) as session:
        found = find_damage(session=session)
    assert found == [
        Damage(NO_CREATED_EVENT, ghost.id or 0, ghost.tracking_code),
        Damage(NO_OUTBOX_ITEM, unsent.id or 0, unsent.tracking_code),
        Damage(NO_OUTBOX_ITEM, ghost.id or 0, ghost.tracking_code),
        Damage(NO_FOLLOW_UP_TASK, orphan.id or 0, "1700000000.3"),
    ]
    assert found[0].describe() == (
        f"request {ghost.tracking_code}: no 'created' event in its history")


def test_fix_writes_the_missing_history_outbox_and_task_once(engine: Engine) -> None:
    """Tried: repair, then repair again. Expect the ghost filed as a filing would be
    (created at its own time, referred, queued with status referred), the unsent request
    queued, the call's abandoned task due when the call came; the second run a no-op."""
    rows = seed(engine)
    with Session(engine) as session:
        assert len(repair(session=session)) == 4
        session.commit()
    repaired = counts(engine)
    with Session(engine) as session:
        assert repair(session=session) == []
        session.commit()
        assert find_damage(session=session) == []
        ghost = session.get(CitizenRequest, rows["ghost"].id)
        assert ghost is not None and ghost.status == RequestStatus.REFERRED
        steps = [(e.kind, e.from_status, e.to_status, e.actor)
                 for e in history(session=session, request=ghost)]
        assert steps == [("created", None, "new", "db-repair"),
                         ("status", "new", "referred", "db-repair")]
        assert history(session=session, request=ghost)[0].at == FILED_AT
        items = session.exec(select(OutboxItem).order_by(OutboxItem.id)).all()  # type: ignore[arg-type]
        queued = {(i.request_id, i.kind, i.payload["request"]["status"]) for i in items}
        assert (ghost.id, "request_created", "referred") in queued
        assert (rows["unsent"].id, "request_created", "referred") in queued
        [task] = session.exec(select(Task).where(Task.call_linkedid == "1700000000.3")).all()
        assert (task.kind, task.state, task.due_at) == ("abandoned", "pending", FILED_AT)
    assert counts(engine) == repaired


def test_cli_lists_then_fixes(engine: Engine, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Tried: ``db repair`` (exit 1, the list), ``--fix`` (exit 0), ``--fix`` again."""
    rows = seed(engine)
    monkeypatch.setenv("CALLCENTER_ENVIRONMENT", "test")
    monkeypatch.setenv("CALLCENTER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CALLCENTER_DATABASE_URL",
                       engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["db", "repair"])
    assert listed.exit_code == 1, listed.output
    assert "call 1700000000.3: no follow-up task" in listed.output
    assert "found 4 problem(s); run with --fix to repair" in listed.output
    assert "913555020" not in listed.output  # no phone numbers on the console
    fixed = runner.invoke(cli_app, ["db", "repair", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert fixed.output.count(str(rows["ghost"].tracking_code)) == 2  # type: ignore[union-attr]
    again = runner.invoke(cli_app, ["db", "repair", "--fix"])
    assert (again.exit_code, again.output.strip()) == (0, "fixed 0 problem(s)")
