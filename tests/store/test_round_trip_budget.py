"""Issue 13: filing a request and writing a call's record cost a fixed number of
statements (each one a round trip to PostgreSQL), whatever the store holds.

Every statement the path sends through the engine is counted (``before_cursor_execute``:
SELECTs, INSERTs, UPDATEs, SAVEPOINTs - not the driver's own BEGIN/COMMIT). The budgets
are what the paths send today; a change that adds a statement to either path fails here
and must say why (docs/benchmarks.md has what each statement costs at city scale).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.agent_panel.services import save_from_pop
from callcenter.callrecords.models import Call
from callcenter.callrecords.services import record_call
from callcenter.calls.events import CallEnded, Outcome
from callcenter.cases.models import CitizenRequest, RequestEvent
from callcenter.followups.models import Task

PHONE = "09121234567"
# Statements per path and backend (before this budget: filing 17 / 14, a linked call's
# end 8 on PostgreSQL). SQLite writes the filing's two first history lines in two
# INSERTs where psycopg batches them in one.
BUDGETS = {
    # Filing from the screen-pop, a citizen's first request: category, neighbourhood,
    # the call (not written yet), citizen (SELECT, SAVEPOINT, INSERT, RELEASE), rule 1,
    # request (SAVEPOINT, INSERT, RELEASE; written already referred), rule 2, then one
    # flush: history and outbox; the contact line.
    "filing, new citizen": {"postgresql": 15, "sqlite": 16},
    # The same citizen again, another category: no citizen INSERT (its 3 statements).
    "filing, known citizen": {"postgresql": 12, "sqlite": 13},
    # The call's end after that filing: is it written already, citizen, the call's
    # request events, SAVEPOINT, INSERT (already linked, no UPDATE), RELEASE, the
    # events' call id.
    "call end, linked": {"postgresql": 7, "sqlite": 7},
    # An abandoned call, new caller, no request: is it written, citizen (4), events,
    # the call (3), is there a task for it already, the task.
    "call end, abandoned": {"postgresql": 11, "sqlite": 11},
}


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    sent: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's own BEGIN
            sent.append(" ".join(statement.split())[:120])

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def run(engine: Engine, work: Callable[[Session], Any]) -> list[str]:
    with counted(engine) as sent, Session(engine, expire_on_commit=False) as session:
        work(session)
        session.commit()
    return list(sent)


def file(session: Session, *, linkedid: str, category: str) -> Any:
    return save_from_pop(
        session=session, actor="agent1", linkedid=linkedid, phone=PHONE,
        category_code=category, neighbourhood_code="fahadan", description="چاله",
        citizen_name=None, tracking_code=None, new_status=None, note=None)


def ended(linkedid: str, outcome: Outcome, caller: str = PHONE) -> CallEnded:
    now = time.time()
    answered = outcome == Outcome.ANSWERED
    return CallEnded(
        linkedid=linkedid, at=now, outcome=outcome, caller=caller, caller_name="",
        parties=("PJSIP/2101",) if answered else (),
        answered_by="PJSIP/2101" if answered else None, transfers=(),
        queue="citizen-requests", started_at=now - 90, answered_at=now - 60 if answered
        else None, ended_at=now, wait_seconds=30.0, talk_seconds=60.0 if answered else 0.0,
        hangup_by="caller")


def within(engine: Engine, name: str, sent: list[str]) -> None:
    budget = BUDGETS[name][engine.dialect.name]
    assert len(sent) <= budget, (
        f"{name}: {len(sent)} statements, budget {budget}:\n  " + "\n  ".join(sent))


def test_filing_and_call_end_stay_within_their_statement_budget(engine: Engine) -> None:
    """Tried: a first filing (new citizen), a second filing by them, the call's end
    linking the call to the filed request, an abandoned call of a new caller. Expect
    each within its budget, and the work done (rows as before the budget existed)."""
    within(engine, "filing, new citizen",
           run(engine, lambda s: file(s, linkedid="L-1", category="streets")))
    within(engine, "filing, known citizen",
           run(engine, lambda s: file(s, linkedid="L-2", category="parks")))
    within(engine, "call end, linked", run(engine, lambda s: record_call(
        session=s, ended=ended("L-2", Outcome.ANSWERED))))
    within(engine, "call end, abandoned", run(engine, lambda s: record_call(
        session=s, ended=ended("L-3", Outcome.ABANDONED, caller="09127654321"))))

    with Session(engine) as session:
        requests = session.exec(select(CitizenRequest).order_by(CitizenRequest.id)).all()
        assert [(r.status, r.category_code) for r in requests] == [
            ("referred", "streets"), ("referred", "parks")]
        events = session.exec(select(RequestEvent).where(
            RequestEvent.request_id == requests[1].id).order_by(RequestEvent.id)).all()
        assert [(e.kind, e.from_status, e.to_status, e.actor) for e in events] == [
            ("created", None, "new", "agent1"), ("status", "new", "referred", "routing"),
            ("contact", None, None, "agent1")]
        call = session.exec(select(Call).where(Call.linkedid == "L-2")).one()
        assert call.request_id == requests[1].id
        assert events[-1].call_id == call.id  # the contact line got the call's id
        assert session.exec(select(Task.call_linkedid)).all() == ["L-3"]


def test_a_call_end_written_twice_costs_one_statement(engine: Engine) -> None:
    """Tried: the same call's end reported again (a replay). Expect one SELECT, no write."""
    run(engine, lambda s: record_call(session=s, ended=ended("L-9", Outcome.ANSWERED)))
    again = run(engine, lambda s: record_call(session=s, ended=ended("L-9", Outcome.ANSWERED)))
    assert len(again) == 1, again
