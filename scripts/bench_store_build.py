"""Builds a city-scale request store fast, for ``scripts/bench-store``.

The schema comes from the product's own migrations (``prepare_store``); the rows are
generated here and bulk-loaded: PostgreSQL through ``COPY`` (psycopg 3), SQLite in one
transaction with ``executemany``. Secondary indexes are dropped during the load and
re-created from their own definitions afterwards (a sorted index build is far faster than
millions of single inserts), so the store ends with exactly the migrated schema.

Shape at N requests (three years of history, then today's traffic):
- 0.4 N citizens; 20 "heavy" citizens call very often (10 % of all calls, 2 % of requests);
- 3 N calls (70 % answered, 10 % abandoned, 15 % IVR only, 3 % callback, 2 % missed;
  5 % anonymous), each phone-filed request linked to its call through a ``contact`` event;
- about 4.5 events per request (created, referred, progress, contact...);
- ~5 % of requests open (most of them overdue), every request of today open;
- about 1.1 N tasks (abandoned/missed calls, surveys), 1 % of them still open;
- today: 2,500 calls and 800 requests whatever N (a city's day does not grow with history).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine
from stdnum import damm

HEAVY_CITIZENS = 20
TODAY_CALLS = 2_500
TODAY_REQUESTS = 800
HISTORY_DAYS = 3 * 365
LINKEDID_BASE = "1700000000"
OUTCOMES = [("answered", 70), ("abandoned", 10), ("ivr_only", 15), ("callback", 3),
            ("missed", 2)]
CLOSED = [("closed", 70), ("resolved", 15), ("rejected", 5), ("duplicate", 5)]
OPEN = ["referred", "referred", "in_progress", "new", "reopened"]
BULK_TABLES = ["citizen", "citizen_request", "call", "request_event", "task"]


def citizen_phone(i: int) -> str:
    """E.164 number of citizen ``i`` (the store's identity)."""
    return f"+98912{i:07d}"


def national(i: int) -> str:
    """The caller number Asterisk reports for citizen ``i``."""
    return f"0912{i:07d}"


def unknown_phone(rng: random.Random) -> str:
    """A valid mobile number that no citizen in the store has."""
    return f"0935{rng.randrange(10_000_000):07d}"


def tracking_code(i: int) -> str:
    """A distinct valid code per request index (a bijection of 1..9,000,000)."""
    body = str(1_000_000 + (i * 7919) % 9_000_000)
    return body + str(damm.calc_check_digit(body))


def linkedid(call_id: int) -> str:
    return f"{LINKEDID_BASE}.{call_id}"


@dataclass(frozen=True)
class Shape:
    requests: int
    now: datetime
    today_start: datetime
    categories: Sequence[tuple[str, str, int]]  # code, department, deadline hours
    neighbourhoods: Sequence[str]

    @property
    def citizens(self) -> int:
        return max(200, self.requests * 2 // 5)

    @property
    def calls(self) -> int:
        return self.requests * 3

    def moment(self, index: int, total: int, today: int) -> float:
        """Row ``index`` of ``total``: the last ``today`` rows fall in today, the others
        evenly over the three years before (ids follow time, as in a live store)."""
        start = self.today_start.timestamp()
        if index >= total - today:
            span = max(self.now.timestamp() - start - 60, 1.0)
            return start + span * (index - (total - today)) / today
        history = total - today
        return start - HISTORY_DAYS * 86400 * (1 - index / history)


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _citizen_for_call(rng: random.Random, shape: Shape) -> int | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.15:
        return rng.randint(1, HEAVY_CITIZENS)
    return rng.randint(HEAVY_CITIZENS + 1, shape.citizens)


def _citizen_for_request(rng: random.Random, shape: Shape) -> int:
    if rng.random() < 0.02:
        return rng.randint(1, HEAVY_CITIZENS)
    return rng.randint(HEAVY_CITIZENS + 1, shape.citizens)


class Rows:
    """Generates every table's rows; ``ts`` turns epoch seconds into the backend's value."""

    def __init__(self, shape: Shape, ts: Callable[[float], Any], has_event_linkedid: bool):
        self.shape = shape
        self.ts = ts
        self.has_event_linkedid = has_event_linkedid
        self.rng = random.Random(137)
        # citizen of the call that filed request i (calls 3i): the request's citizen
        self.request_citizen: dict[int, int] = {}
        self.statuses: dict[int, str] = {}
        self.followup_calls: list[tuple[int, float, int | None]] = []  # abandoned, missed

    citizen_columns: ClassVar[list[str]] = [
        "id", "phone", "name", "neighbourhood_code", "opted_out", "created_at"]

    def citizen(self) -> Iterator[tuple[Any, ...]]:
        created = self.ts(self.shape.today_start.timestamp() - HISTORY_DAYS * 86400)
        hoods = self.shape.neighbourhoods
        for i in range(1, self.shape.citizens + 1):
            name = f"شهروند {i}" if i % 2 else None
            hood = hoods[i % len(hoods)] if i % 3 else None
            yield (i, citizen_phone(i), name, hood, i % 97 == 0, created)

    request_columns: ClassVar[list[str]] = [
        "id", "channel", "category_code", "neighbourhood_code", "description", "tracking_code",
        "citizen_id", "department_code", "status", "deadline_at", "needs_triage",
        "reporter_count", "created_at", "updated_at", "resolved_at"]

    def request_status(self, i: int) -> str:
        if i > self.shape.requests - TODAY_REQUESTS:
            return "referred"
        return OPEN[i % len(OPEN)] if self.rng.random() < 0.05 else _weighted(self.rng, CLOSED)

    def citizen_request(self) -> Iterator[tuple[Any, ...]]:
        shape, rng = self.shape, self.rng
        for i in range(1, shape.requests + 1):
            at = shape.moment(i - 1, shape.requests, TODAY_REQUESTS)
            code, department, hours = shape.categories[rng.randrange(len(shape.categories))]
            citizen = _citizen_for_request(rng, shape)
            self.request_citizen[i] = citizen
            status = self.statuses[i] = self.request_status(i)
            done = status in ("resolved", "closed")
            yield (i, "phone" if i % 5 < 3 else "sms", code,
                   shape.neighbourhoods[rng.randrange(len(shape.neighbourhoods))]
                   if rng.random() < 0.9 else None,
                   f"شرح درخواست {i}", tracking_code(i), citizen, department, status,
                   self.ts(at + hours * 3600), False, 1, self.ts(at),
                   self.ts(at + (9 if done else 1) * 86400 if at < shape.today_start.timestamp()
                           else at),
                   self.ts(at + 2 * 86400) if done else None)

    call_columns: ClassVar[list[str]] = [
        "id", "linkedid", "uniqueid", "direction", "caller", "caller_name", "citizen_id",
        "queue", "agent", "entered_at", "answered_at", "ended_at", "wait_seconds",
        "talk_seconds", "outcome", "ivr_path", "request_id", "source", "details", "created_at"]

    def call(self) -> Iterator[tuple[Any, ...]]:
        shape, rng = self.shape, self.rng
        details = json.dumps({"parties": [], "transfers": [], "joined_late": False})
        for k in range(1, shape.calls + 1):
            at = shape.moment(k - 1, shape.calls, TODAY_CALLS)
            request_id = k // 3 if k % 3 == 0 and (k // 3) % 5 < 3 else None
            citizen = (self.request_citizen[request_id] if request_id
                       else _citizen_for_call(rng, shape))
            outcome = "answered" if request_id else _weighted(rng, OUTCOMES)
            wait = round(rng.uniform(0, 90), 3) if outcome != "ivr_only" else 0.0
            talk = round(rng.uniform(30, 400), 3) if outcome == "answered" else 0.0
            answered = outcome == "answered"
            if outcome in ("abandoned", "missed") and citizen:
                self.followup_calls.append((k, at, citizen))
            yield (k, linkedid(k), linkedid(k), "inbound",
                   national(citizen) if citizen else None, None, citizen,
                   None if outcome == "ivr_only" else "citizen-requests",
                   f"PJSIP/{2101 + k % 10}" if answered else None, self.ts(at),
                   self.ts(at + 20 + wait) if answered else None,
                   self.ts(at + 20 + wait + talk), wait, talk, outcome, "lang:fa>menu:0",
                   request_id, "ami", details, self.ts(at + 30 + wait + talk))

    @property
    def event_columns(self) -> list[str]:
        columns = ["id", "request_id", "at", "kind", "actor", "from_status", "to_status",
                   "channel", "call_id", "note", "data"]
        return columns + (["linkedid"] if self.has_event_linkedid else [])

    def request_event(self) -> Iterator[tuple[Any, ...]]:
        shape, ts = self.shape, self.ts
        n = 0
        extra: tuple[Any, ...] = ()
        for i in range(1, shape.requests + 1):
            at = shape.moment(i - 1, shape.requests, TODAY_REQUESTS)
            status = self.statuses[i]
            lines: list[tuple[Any, ...]] = [
                (at, "created", "system", None, "new", "phone", None, None, None),
                (at, "status", "routing", "new", "referred", None, None, "referred", None)]
            if i % 5 < 3:  # filed from a call: the agent's contact event names the call
                lid = linkedid(3 * i)
                lines.append((at + 60, "contact", "agent", None, None, "phone",
                              3 * i if 3 * i <= shape.calls else None, None,
                              json.dumps({"linkedid": lid})))
            if status in ("resolved", "closed", "in_progress"):
                lines.append((at + 86400, "status", "dept", "referred", "in_progress", None,
                              None, None, None))
            if status in ("resolved", "closed"):
                lines.append((at + 2 * 86400, "status", "dept", "in_progress", "resolved",
                              None, None, None, None))
            if status == "closed":
                lines.append((at + 9 * 86400, "status", "system", "resolved", "closed", None,
                              None, None, None))
            for line in lines:
                n += 1
                if self.has_event_linkedid:
                    extra = (json.loads(line[8])["linkedid"] if line[8] else None,)
                yield (n, i, ts(line[0]), *line[1:], *extra)

    task_columns: ClassVar[list[str]] = [
        "id", "kind", "state", "request_id", "citizen_id", "call_linkedid", "due_at",
        "attempts", "max_attempts", "created_at", "updated_at"]

    def task(self) -> Iterator[tuple[Any, ...]]:
        shape, rng, ts = self.shape, self.rng, self.ts
        n = 0
        today = shape.today_start.timestamp()
        for k, at, citizen in self.followup_calls:
            n += 1
            state = "pending" if at >= today and k % 2 else (
                "pending" if rng.random() < 0.01 else "done")
            yield (n, "abandoned", state, None, citizen, linkedid(k), ts(at), 1, 3, ts(at),
                   ts(at))
        for i in range(1, shape.requests + 1):
            if i % 4 == 0:
                continue
            at = shape.moment(i - 1, shape.requests, TODAY_REQUESTS) + 2 * 86400
            n += 1
            state = "pending" if rng.random() < 0.01 else "done"
            yield (n, "survey_sms", state, i, self.request_citizen[i], None, ts(at), 1, 3,
                   ts(at), ts(at))


def _tables(rows: Rows) -> list[tuple[str, list[str], Callable[[], Iterator[tuple[Any, ...]]]]]:
    return [("citizen", rows.citizen_columns, rows.citizen),
            ("citizen_request", rows.request_columns, rows.citizen_request),
            ("call", rows.call_columns, rows.call),
            ("request_event", rows.event_columns, rows.request_event),
            ("task", rows.task_columns, rows.task)]


def _counted(rows: Iterator[tuple[Any, ...]], table: str, say: Callable[[str], None]
             ) -> Iterator[tuple[Any, ...]]:
    started = time.monotonic()
    n = 0
    for n, row in enumerate(rows, 1):
        if n % 500_000 == 0:
            say(f"  {table}: {n:,} rows ({time.monotonic() - started:.0f} s)")
        yield row
    say(f"  {table}: {n:,} rows in {time.monotonic() - started:.1f} s")


def _shape(engine: Engine, requests: int, timezone: str) -> Shape:
    with engine.connect() as conn:
        categories = [tuple(r) for r in conn.execute(text(
            "SELECT code, department_code, deadline_hours FROM category ORDER BY code"))]
        hoods = [r[0] for r in conn.execute(text("SELECT code FROM neighbourhood ORDER BY code"))]
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(timezone))
    start = datetime.combine(local.date(), datetime.min.time(), tzinfo=ZoneInfo(timezone))
    return Shape(requests=requests, now=now, today_start=start.astimezone(UTC),
                 categories=categories, neighbourhoods=hoods)  # type: ignore[arg-type]


def build_store(*, engine: Engine, requests: int, timezone: str,
                say: Callable[[str], None]) -> None:
    """Fill a migrated, empty store with ``requests`` requests and their history."""
    shape = _shape(engine, requests, timezone)
    with engine.connect() as conn:
        # the column the fix adds (migration 0005): filled when the schema has it
        columns = set(conn.execute(text("SELECT * FROM request_event WHERE 1 = 0")).keys())
    backend = engine.dialect.name
    if backend == "postgresql":
        rows = Rows(shape, lambda e: datetime.fromtimestamp(e, UTC), "linkedid" in columns)
        _load_postgres(engine, rows, say)
    else:
        rows = Rows(shape, _sqlite_ts, "linkedid" in columns)
        _load_sqlite(engine, rows, say)


def _sqlite_ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _load_postgres(engine: Engine, rows: Rows, say: Callable[[str], None]) -> None:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        conn.autocommit = False
        with conn.cursor() as cur:
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND "
                "indexname NOT IN (SELECT conname FROM pg_constraint)", (BULK_TABLES,))
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            # Foreign keys are checked by triggers row by row; the generator keeps them.
            cur.execute("SET session_replication_role = replica")
            for table, columns, make in _tables(rows):
                names = ", ".join(f'"{c}"' for c in columns)
                with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in _counted(make(), table, say):
                        copy.write_row(row)
            cur.execute("SET session_replication_role = origin")
            started = time.monotonic()
            for _, definition in indexes:
                cur.execute(definition)
            for table in BULK_TABLES:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'(SELECT coalesce(max(id), 1) FROM "{table}"))')
            conn.commit()
            say(f"  {len(indexes)} indexes built in {time.monotonic() - started:.1f} s")
        conn.autocommit = True
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        conn.autocommit = False
        say(f"  VACUUM ANALYZE in {time.monotonic() - started:.1f} s")
    finally:
        raw.close()
        engine.dispose()  # no pooled connection keeps the load's session settings


def _load_sqlite(engine: Engine, rows: Rows, say: Callable[[str], None]) -> None:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        marks = ", ".join("?" for _ in BULK_TABLES)
        indexes = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})", BULK_TABLES).fetchall()
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, columns, make in _tables(rows):
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                             _counted(make(), table, say))
        started = time.monotonic()
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute("COMMIT")
        say(f"  {len(indexes)} indexes built in {time.monotonic() - started:.1f} s")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        started = time.monotonic()
        conn.execute("ANALYZE")
        say(f"  ANALYZE in {time.monotonic() - started:.1f} s")
    finally:
        raw.close()
        engine.dispose()
