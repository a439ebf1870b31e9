"""Engine and sessions: one engine per process, built from settings (never at import).

SQLite transactions follow SQLAlchemy's documented recipe for the pysqlite driver
(dialects/sqlite "Enabling Non-Legacy SQLite Transactional Modes"): the driver's own
transaction handling is switched off (``isolation_level=None``; Python 3.11 has no
``autocommit`` attribute yet) and SQLAlchemy emits BEGIN itself on the engine's
``begin`` event. The driver's legacy mode opened no transaction before a SAVEPOINT, so
the first ``begin_nested()`` RELEASE committed for real (issue 21).

Which BEGIN: a unit of work (``session_scope``, what every writer uses: HTTP routes,
the AMI recorder, the follow-up engine, the outbox deliverer, the CLI) starts with
``BEGIN IMMEDIATE``: it takes SQLite's one write lock up front, so a second writer waits
on the busy timeout at its BEGIN. With a plain (deferred) BEGIN a unit that reads and
then writes (``get_or_create_citizen``, the claim UPDATEs) holds a snapshot; once another
writer commits, its first write fails at once with "database is locked" and the busy
timeout never helps. Every other transaction (a bare ``Session(engine)`` that only
reads: panels, logins, stats) stays deferred: in WAL mode it neither blocks nor waits
for writers. PostgreSQL ignores all of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

BUSY_TIMEOUT_SECONDS = 30
# Execution option read by the SQLite ``begin`` hook: "IMMEDIATE" for units of work.
SQLITE_BEGIN = "sqlite_begin"
# Execution option read by the same hook: a lock wait (ms) set before BEGIN, so a unit
# of work under ``short_lock_wait`` waits that long for the write lock, not 30 s.
SQLITE_BUSY_MS = "sqlite_busy_ms"


def build_engine(database_url: str, *, echo: bool = False) -> Engine:
    """Create the engine; SQLite gets real transactions, WAL, foreign keys and a busy
    timeout."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS,
                          "isolation_level": None},  # the driver never BEGINs on its own
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    # hide_parameters: a failed statement's error names no phone number or SMS text.
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    immediate = options.get(SQLITE_BEGIN) == "IMMEDIATE"
    if (busy_ms := options.get(SQLITE_BUSY_MS)) is not None:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(busy_ms)}")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN DEFERRED")


def writer(engine: Engine) -> Engine:
    """The engine as a unit of work binds it: on SQLite every transaction BEGINs
    IMMEDIATE (see the module docstring)."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


@contextmanager
def short_lock_wait(session: Session, seconds: float) -> Iterator[None]:
    """Within this block the session waits at most ``seconds`` for a lock (SQLite's write
    lock, a PostgreSQL row lock) and then fails with ``OperationalError``, instead of the
    engine's long default: for work that must answer fast (webhooks, session touches)."""
    millis = max(int(seconds * 1000), 1)
    if session.get_bind().dialect.name == "sqlite":
        # A unit of work BEGINs IMMEDIATE, i.e. waits for the lock at its BEGIN: the
        # short wait must be in force before it (the begin hook sets it).
        transaction = session.get_transaction()
        fresh = transaction is None or not transaction._connections  # nothing begun yet
        connection = (session.connection(execution_options={SQLITE_BUSY_MS: millis})
                      if fresh else session.connection())
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {millis}")  # begun earlier
        try:
            yield
        finally:
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        return
    connection = session.connection()
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = {millis}")  # this transaction
    yield


@contextmanager
def _unit(bind: Engine) -> Iterator[Session]:
    """Commit on success, roll back on error."""
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def session_scope(engine: Engine) -> AbstractContextManager[Session]:
    """A unit of work: commits on success, rolls back on error; holds SQLite's write
    lock from its first statement."""
    return _unit(writer(engine))


def read_scope(engine: Engine) -> AbstractContextManager[Session]:
    """A unit of work that only reads (a page, a GET): on SQLite a deferred BEGIN, so a
    writer holding the lock elsewhere never makes it wait. Commits like ``session_scope``
    (a read-only commit is free)."""
    return _unit(engine)
