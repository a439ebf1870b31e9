"""Issue 21: every service that opens a nested transaction (``begin_nested``) is really
inside its caller's transaction, on SQLite as on PostgreSQL.

Before the engine fix SQLite's driver ran the first SAVEPOINT outside any transaction,
so its RELEASE committed: a rolled-back filing left a citizen and a ``new`` request with
no history and no Shahrbin outbox item. Each case here does the work, checks it wrote
what it should (inside the session), rolls the session back and finds nothing left.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from nested_support import abandoned_call, counts, grown, sms_report
from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.callrecords.services import record_call
from callcenter.cases.services import create_request
from callcenter.citizens.services import get_or_create_citizen
from callcenter.intake.services import file_request
from callcenter.sms.inbound import handle_inbound
from callcenter.sms.messages import load_catalogue
from callcenter.users.services import create_user

Work = Callable[[Session], object]

REQUEST_ROWS = {"citizen", "citizen_request", "request_event"}
WORK: dict[str, tuple[Work, set[str]]] = {
    "citizens.get_or_create_citizen": (
        lambda s: get_or_create_citizen(session=s, phone="09135550001", name="سارا"),
        {"citizen"}),
    "cases.create_request": (
        lambda s: create_request(session=s, phone="09135550002", channel="phone",
                                 category_code="streets", description="چاله"),
        REQUEST_ROWS),
    "intake.file_request": (
        lambda s: file_request(session=s, phone="09135550003", channel="web",
                               category_code="parks", description="نیمکت شکسته"),
        REQUEST_ROWS | {"crm_outbox"}),
    "calls.record_call": (
        lambda s: record_call(session=s, ended=abandoned_call()),
        {"citizen", "call", "task"}),
    "users.create_user": (
        lambda s: create_user(session=s, username="agent7", password="long-enough-1",
                              role="agent", extension="2107"),
        {"staff_user"}),
    "sms.handle_inbound": (
        lambda s: handle_inbound(session=s, sms=sms_report(), catalogue=load_catalogue()),
        REQUEST_ROWS | {"crm_outbox", "sms_message"}),
}


@pytest.mark.parametrize("name", list(WORK))
def test_rolled_back_session_leaves_nothing(engine: Engine, name: str) -> None:
    """Tried: the service's work in a session that is then rolled back (a later step of
    the same unit failed). Expect its rows while the session lives, none afterwards."""
    work, tables = WORK[name]
    before = counts(engine)
    with Session(engine) as session:
        work(session)
        session.flush()
        assert grown(before, counts(session)) == tables
        session.rollback()
    assert counts(engine) == before, f"{name} left rows behind after a rollback"


def test_rolled_back_filing_after_committed_work_leaves_only_the_committed(
    engine: Engine,
) -> None:
    """Tried: one filing committed, a second one in a new transaction of the same session
    rolled back. Expect exactly the first filing's rows."""
    with Session(engine) as session:
        file_request(session=session, phone="09135550004", channel="app",
                     category_code="waste")
        session.commit()
        committed = counts(engine)
        file_request(session=session, phone="09135550005", channel="app",
                     category_code="waste")
        session.rollback()
    assert counts(engine) == committed
