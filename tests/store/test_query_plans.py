"""The hot paths' queries read the big tables by index (PostgreSQL query plans).

A store is seeded with enough rows (and ANALYZEd) that PostgreSQL's planner prefers an
index wherever one fits; then every hot path is called through the product's own
functions while a ``before_cursor_execute`` listener records the SQL they send, and each
recorded SELECT/UPDATE/DELETE is EXPLAINed with its own parameters. A sequential scan of
``call``, ``citizen_request``, ``request_event`` or ``task`` means that path reads the
whole history on every call (the figures are in docs/benchmarks.md, ``scripts/bench-store``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import time as day_time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from support.databases import POSTGRES_URL, create_postgres_database, drop_postgres_database

from callcenter.agent_panel.services import (
    load_reference_names,
    pop_history,
    save_from_pop,
)
from callcenter.agent_panel.tasks import task_rows
from callcenter.agi.backend import StoreIvrBackend
from callcenter.app import prepare_store
from callcenter.auth.services import SignedInUser
from callcenter.callrecords.services import record_call
from callcenter.calls.events import AgentRinging, CallEnded, Outcome
from callcenter.cases.http import list_cases, read_case
from callcenter.cases.models import CitizenRequest
from callcenter.cases.tracking import check_digit
from callcenter.clock import utcnow
from callcenter.db.engine import build_engine
from callcenter.intake.duplicates import suggest_duplicates
from callcenter.reference.hours import Holidays, Hours
from callcenter.sms.messages import load_catalogue
from callcenter.stats.queries import today_report
from callcenter.status_page.services import public_status
from callcenter.users.models import Role

BIG_TABLES = {"call", "citizen_request", "request_event", "task"}
CITIZENS, REQUESTS, CALLS = 8_000, 20_000, 60_000
TIMEZONE = "Asia/Tehran"
HEAVY_PHONE = "09120000001"  # citizen 1 calls very often

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="query plans are PostgreSQL's")


def code_of(i: int) -> str:
    body = str(1_000_000 + i * 7919 % 9_000_000)
    return body + check_digit(body)


SEED = [
    """INSERT INTO citizen (id, phone, name, opted_out, created_at)
       SELECT i, '+98912' || lpad(i::text, 7, '0'), NULL, false, now() - interval '3 years'
       FROM generate_series(1, :citizens) AS i""",
    # every 20th request is open; citizen 1 files one request in 50
    """INSERT INTO citizen_request (id, channel, category_code, neighbourhood_code,
         tracking_code, citizen_id, department_code, status, deadline_at, needs_triage,
         reporter_count, created_at, updated_at)
       SELECT i, 'phone', cat.code, hood.code, codes.code,
              CASE WHEN i % 50 = 0 THEN 1 ELSE 2 + i % (:citizens - 1) END,
              cat.department_code, CASE WHEN i % 20 = 0 THEN 'referred' ELSE 'closed' END,
              t + interval '1 day', false, 1, t, t
       FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS codes(code, i)
       CROSS JOIN LATERAL (SELECT now() - (:requests - i) * interval '60 minutes' AS t) AS ts
       JOIN (SELECT code, department_code, row_number() OVER (ORDER BY code) - 1 AS n
             FROM category) AS cat ON cat.n = i % (SELECT count(*) FROM category)
       JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS n
             FROM neighbourhood) AS hood ON hood.n = i % (SELECT count(*) FROM neighbourhood)""",
    # citizen 1 makes one call in ten; one in ten calls is abandoned
    """INSERT INTO call (id, linkedid, uniqueid, direction, caller, citizen_id, queue,
         entered_at, outcome, source, created_at)
       SELECT i, 'L' || i, 'L' || i, 'inbound', '0912' || lpad(cz::text, 7, '0'), cz,
              'citizen-requests', t,
              CASE WHEN i % 10 = 3 THEN 'abandoned' ELSE 'answered' END, 'ami', t
       FROM generate_series(1, :calls) AS i
       CROSS JOIN LATERAL (SELECT CASE WHEN i % 10 = 0 THEN 1
                                       ELSE 2 + i % (:citizens - 1) END AS cz,
                                  now() - (:calls - i) * interval '20 minutes'
                                  AS t) AS v""",
    """INSERT INTO request_event (request_id, at, kind, actor, channel, call_id, data,
         linkedid)
       SELECT r.id, r.created_at + k * interval '1 hour',
              (ARRAY['created', 'status', 'contact', 'status'])[k + 1], 'system', 'phone',
              CASE WHEN k = 2 THEN r.id * 3 END,
              CASE WHEN k = 2 THEN json_build_object('linkedid', 'L' || r.id * 3) END,
              CASE WHEN k = 2 THEN 'L' || r.id * 3 END
       FROM citizen_request AS r CROSS JOIN generate_series(0, 3) AS k""",
    """INSERT INTO task (kind, state, citizen_id, request_id, call_linkedid, due_at,
         attempts, max_attempts, created_at, updated_at)
       SELECT 'abandoned', CASE WHEN c.id % 97 = 0 THEN 'pending' ELSE 'done' END,
              c.citizen_id, NULL, c.linkedid, c.entered_at, 1, 3, c.entered_at, c.entered_at
       FROM call AS c WHERE c.outcome = 'abandoned'""",
    # a survey per request, one in 40 still waiting: ~2 % of all tasks open, more of
    # them than the follow-up list shows
    """INSERT INTO task (kind, state, citizen_id, request_id, due_at, attempts,
         max_attempts, created_at, updated_at)
       SELECT 'survey_sms', CASE WHEN r.id % 40 = 0 THEN 'waiting' ELSE 'done' END,
              r.citizen_id, r.id, r.created_at + interval '2 days', 0, 3, r.created_at,
              r.created_at
       FROM citizen_request AS r""",
]


@pytest.fixture(scope="module")
def big_store() -> Iterator[Engine]:
    url = create_postgres_database("cc_plans")
    engine = build_engine(url)
    try:
        prepare_store(engine)
        with engine.begin() as conn:
            # the rows are consistent by construction: skip the per-row foreign key checks
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in SEED:
                conn.execute(text(statement), {
                    "citizens": CITIZENS, "requests": REQUESTS, "calls": CALLS,
                    "codes": [code_of(i) for i in range(1, REQUESTS + 1)]})
            for table in ("citizen", "citizen_request", "call", "request_event", "task"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', "
                                  f"'id'), (SELECT max(id) FROM \"{table}\"))"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE citizen, citizen_request, call, request_event, "
                              "task"))
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(url)


def sql_of(engine: Engine, work: Callable[[Session], Any]) -> list[tuple[str, Any]]:
    """Every statement ``work`` sends, with its parameters (rolled back afterwards)."""
    sent: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        with Session(engine, expire_on_commit=False) as session:
            work(session)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return [(s, p) for s, p in sent
            if s.lstrip().split(None, 1)[0].upper() in ("SELECT", "UPDATE", "DELETE")]


def seq_scans(engine: Engine, statements: list[tuple[str, Any]]) -> list[str]:
    """``table: statement`` for every sequential scan of a big table in these plans."""
    found = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}",
                                        parameters).scalar_one()
            for node in _nodes(plan[0]["Plan"]):
                if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG_TABLES:
                    found.append(f"{node['Relation Name']}: {' '.join(statement.split())}")
    return found


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _ringing(caller: str, code: str | None) -> AgentRinging:
    return AgentRinging(linkedid="ringing-now", at=time.time(), agent="2101",
                        interface="PJSIP/2101", caller=caller, caller_name="",
                        queue="citizen-requests", ivr_path=("category:1",), request_code=code)


def _ended(linkedid: str, caller: str, outcome: Outcome) -> CallEnded:
    now = time.time()
    return CallEnded(linkedid=linkedid, at=now, outcome=outcome, caller=caller,
                     caller_name="", parties=(), answered_by=None, transfers=(),
                     queue="citizen-requests", started_at=now - 60, answered_at=None,
                     ended_at=now, wait_seconds=30.0, talk_seconds=0.0, hangup_by=caller)


def hot_paths(engine: Engine) -> dict[str, Callable[[Session], Any]]:
    with Session(engine) as session:
        reference = load_reference_names(session=session)
    supervisor = SignedInUser(id=1, username="sup", full_name="", role=Role.SUPERVISOR,
                              extension=None, language="fa", csrf_token="x")
    agent = SignedInUser(id=2, username="agent", full_name="", role=Role.AGENT,
                         extension="2101", language="fa", csrf_token="x")
    backend = StoreIvrBackend(engine=engine, queue_name="citizen-requests", hours=Hours(
        zone=ZoneInfo(TIMEZONE), opens=day_time(0), closes=day_time(23, 59),
        holidays=Holidays(frozenset(), frozenset())))

    def duplicate_check(s: Session) -> Any:
        request = s.exec(select(CitizenRequest).where(CitizenRequest.id == REQUESTS)).one()
        return suggest_duplicates(session=s, request=request, window=timedelta(hours=72))

    def filing_then_call_end(s: Session) -> Any:
        save_from_pop(session=s, actor="agent", linkedid="L-new", phone=HEAVY_PHONE,
                      category_code="waste", neighbourhood_code=None, description="x",
                      citizen_name=None, tracking_code=None, new_status=None, note=None)
        record_call(session=s, ended=_ended("L-new", HEAVY_PHONE, Outcome.ABANDONED))

    return {
        "screen-pop history (heavy caller, IVR code)": lambda s: pop_history(
            session=s, event=_ringing(HEAVY_PHONE, code_of(7)), reference=reference),
        "screen-pop history (unknown caller)": lambda s: pop_history(
            session=s, event=_ringing("09350000000", None), reference=reference),
        "supervisor today": lambda s: today_report(
            session=s, now=utcnow(), timezone=TIMEZONE, threshold_seconds=20),
        "supervisor follow-up list": lambda s: task_rows(session=s, user=supervisor),
        "agent follow-up list": lambda s: task_rows(session=s, user=agent),
        "case search by phone": lambda s: list_cases(
            None, s, phone=HEAVY_PHONE, code=None, status=None, page=1,  # type: ignore[arg-type]
            per_page=50),
        "case search by code": lambda s: list_cases(
            None, s, phone=None, code=code_of(11), status=None, page=1,  # type: ignore[arg-type]
            per_page=50),
        "case read": lambda s: read_case(code_of(13), None, s),  # type: ignore[arg-type]
        "status page": lambda s: public_status(session=s, code=code_of(17),
                                               catalogue=load_catalogue(), timezone=TIMEZONE),
        "IVR greeting": lambda _s: asyncio.run(backend.open_requests(phone=HEAVY_PHONE)),
        "duplicate check": duplicate_check,
        "filing and the call's end": filing_then_call_end,
    }


PATHS = ["screen-pop history (heavy caller, IVR code)", "screen-pop history (unknown caller)",
         "supervisor today", "supervisor follow-up list", "agent follow-up list",
         "case search by phone",
         "case search by code", "case read", "status page", "IVR greeting", "duplicate check",
         "filing and the call's end"]


def test_every_hot_path_is_checked(big_store: Engine) -> None:
    assert sorted(hot_paths(big_store)) == sorted(PATHS)


@pytest.mark.parametrize("path", PATHS)
def test_hot_path_reads_big_tables_by_index(big_store: Engine, path: str) -> None:
    statements = sql_of(big_store, hot_paths(big_store)[path])
    assert statements, f"{path} sent no query: the capture is broken"
    assert seq_scans(big_store, statements) == []


def test_a_full_scan_is_caught(big_store: Engine) -> None:
    """The check itself: a query by an unindexed column is reported."""
    statements = sql_of(big_store, lambda s: s.exec(
        select(CitizenRequest).where(CitizenRequest.description == "x")).all())
    assert [found.split(":")[0] for found in seq_scans(big_store, statements)] == [
        "citizen_request"]


def index_names(engine: Engine, statements: list[tuple[str, Any]]) -> set[str]:
    """Every index the plans of these statements read."""
    names = set()
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}",
                                        parameters).scalar_one()
            names |= {node["Index Name"] for node in _nodes(plan[0]["Plan"])
                      if "Index Name" in node}
    return names


@pytest.mark.parametrize("path", ["supervisor follow-up list", "agent follow-up list"])
def test_follow_up_list_is_one_query_over_the_open_task_index(big_store: Engine,
                                                               path: str) -> None:
    """Tried: the follow-up list over 26,000 tasks, 2 % open. Expect one statement (the
    tasks with their citizen's phone, request's code and assignee's name as primary-key
    probes: no query per task, no join over a whole table) reading the open tasks from
    an index that holds only them or their state (the planner picks by its estimates:
    ``ix_task_state`` and a top-N sort here and at 100k, or the partial ``ix_task_open_due``),
    never a walk of all tasks by due time."""
    statements = sql_of(big_store, hot_paths(big_store)[path])
    assert len(statements) == 1, [s for s, _ in statements]
    names = index_names(big_store, statements)
    assert names & {"ix_task_open_due", "ix_task_state"}, names
    assert "ix_task_due_at" not in names
    assert {"citizen_pkey", "citizen_request_pkey"} <= names


def test_today_finds_callback_tasks_by_an_indexed_exists(big_store: Engine) -> None:
    """Tried: today's figures. Expect the abandoned calls and whether each has a task in
    one statement, probing the task's linkedid index (no IN list of linkedids)."""
    statements = sql_of(big_store, hot_paths(big_store)["supervisor today"])
    abandoned = [(s, p) for s, p in statements if "EXISTS" in s.upper()]
    assert len(abandoned) == 1 and not any(" IN (__[POSTCOMPILE" in s for s, _ in statements)
    assert "ix_task_call_linkedid" in index_names(big_store, abandoned)
