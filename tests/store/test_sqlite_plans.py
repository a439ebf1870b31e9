"""SQLite's planner uses the partial indexes of open rows (issue 13).

SQLite uses a partial index only when the query names the index's own constant values,
and its statistics cannot tell open requests from closed ones: without the partial
index it walked the department index over every request for the backlog (800 ms at
100k requests, docs/benchmarks.md). The statements the product sends are captured and
run through ``EXPLAIN QUERY PLAN``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.agent_panel.tasks import task_rows
from callcenter.app import prepare_store
from callcenter.auth.services import SignedInUser
from callcenter.clock import utcnow
from callcenter.db.engine import build_engine
from callcenter.stats.queries import backlog_lines
from callcenter.users.models import Role

# sqlite_stat1 of the 100k-request bench store (scripts/bench-store, ANALYZE after the
# load): 8 statuses, so each looks like 1/8 of the table, open or closed.
STATS_100K = [
    ("citizen_request", "ix_citizen_request_category_code", "100000 16667"),
    ("citizen_request", "ix_citizen_request_category_hood_created", "100000 16667 878 1"),
    ("citizen_request", "ix_citizen_request_channel", "100000 50000"),
    ("citizen_request", "ix_citizen_request_citizen_created", "100000 3 1 1"),
    ("citizen_request", "ix_citizen_request_citizen_id", "100000 3"),
    ("citizen_request", "ix_citizen_request_citizen_status", "100000 3 2"),
    ("citizen_request", "ix_citizen_request_created_at", "100000 1"),
    ("citizen_request", "ix_citizen_request_department_code", "100000 16667"),
    ("citizen_request", "ix_citizen_request_status", "100000 12500"),
    ("citizen_request", "ix_citizen_request_status_department", "100000 12500 2084 1"),
    ("citizen_request", "ix_citizen_request_tracking_code", "100000 1"),
    ("task", "ix_task_call_linkedid", "102337 4"),
    ("task", "ix_task_citizen_id", "102337 3"),
    ("task", "ix_task_due_at", "102337 1"),
    ("task", "ix_task_kind", "102337 51169"),
    ("task", "ix_task_open_due", "1118 1 1"),
    ("task", "ix_task_request_id", "102337 2"),
    ("task", "ix_task_state", "102337 51169"),
]


def store_with_city_statistics(path: Path) -> Engine:
    """A migrated, empty store whose planner statistics are those of 100k requests."""
    engine = build_engine(f"sqlite:///{path}")
    prepare_store(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # creates sqlite_stat1
        conn.execute(text("DELETE FROM sqlite_stat1"))
        for table, index, stat in STATS_100K:
            conn.execute(text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (:t, :i, :s)"),
                         {"t": table, "i": index, "s": stat})
    engine.dispose()  # new connections read the statistics
    return build_engine(f"sqlite:///{path}")


def plans(engine: Engine, work: Callable[[Session], Any]) -> list[str]:
    sent: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with Session(engine) as session:
            work(session)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    with engine.connect() as conn:
        return [" ".join(str(row[-1]) for row in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters)) for statement, parameters in sent]


def test_backlog_and_follow_up_list_read_the_partial_indexes(tmp_path: Path) -> None:
    """Tried: the backlog and a supervisor's follow-up list on a migrated SQLite store
    with a city's statistics. Expect each one statement, reading
    ``ix_citizen_request_open_department`` and ``ix_task_open_due`` (not a walk of the
    department or due-time index over every request or task)."""
    engine = store_with_city_statistics(tmp_path / "store.db")
    try:
        supervisor = SignedInUser(id=1, username="sup", full_name="", role=Role.SUPERVISOR,
                                  extension=None, language="fa", csrf_token="x")
        backlog = plans(engine, lambda s: backlog_lines(session=s, now=utcnow()))
        listed = plans(engine, lambda s: task_rows(session=s, user=supervisor))
    finally:
        engine.dispose()
    assert len(backlog) == 1 and "ix_citizen_request_open_department" in backlog[0], backlog
    assert len(listed) == 1 and "ix_task_open_due" in listed[0], listed
