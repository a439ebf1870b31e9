"""Issue 21, SQLite's one write lock: two units of work that read then write (the shape
of ``get_or_create_citizen`` and every claim) must queue on the busy timeout at BEGIN.

With a deferred BEGIN the second one reads a snapshot while the first holds the lock;
when the first commits, the second's INSERT fails at once with "database is locked" (a
stale snapshot cannot be upgraded, so SQLite does not even wait). SQLite only: on
PostgreSQL rows, not the database, are locked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.app import prepare_store
from callcenter.citizens.models import Citizen
from callcenter.citizens.services import find_citizen, get_or_create_citizen
from callcenter.db.engine import build_engine, session_scope

FIRST, SECOND = "09135550101", "09135550102"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = build_engine(f"sqlite:///{tmp_path / 'store.db'}")
    prepare_store(engine)
    yield engine
    engine.dispose()


def test_second_writer_waits_for_the_first_instead_of_failing(sqlite_engine: Engine) -> None:
    """Tried: writer 1 holds its unit of work open after an INSERT; writer 2 starts, reads
    (is its citizen there?) and inserts. Expect writer 2 to wait at its BEGIN until writer
    1 commits, then succeed: both citizens stored, no "database is locked"."""
    first_holds, second_read = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        first_holds.wait(10)
        try:
            with session_scope(sqlite_engine) as session:
                find_citizen(session=session, phone=SECOND)
                second_read.set()
                get_or_create_citizen(session=session, phone=SECOND)
        except BaseException as exc:  # reported below, with the test's own assertion
            errors.append(exc)

    thread = threading.Thread(target=second_writer)
    thread.start()
    with session_scope(sqlite_engine) as session:
        get_or_create_citizen(session=session, phone=FIRST)
        session.flush()
        first_holds.set()
        read_while_locked = second_read.wait(0.5)
    thread.join(20)
    assert not thread.is_alive()
    assert errors == []
    assert not read_while_locked, "writer 2 read a snapshot under writer 1's lock"
    with Session(sqlite_engine) as session:
        phones = sorted(c.phone for c in session.exec(select(Citizen)).all())
    assert phones == ["+989135550101", "+989135550102"]


def test_an_open_reader_does_not_hold_up_a_writer(sqlite_engine: Engine) -> None:
    """Tried: a plain session reads and keeps its transaction open (a panel, a login)
    while a unit of work writes. Expect the write to go through (WAL, deferred reader)."""
    done = threading.Event()

    def write() -> None:
        with session_scope(sqlite_engine) as session:
            get_or_create_citizen(session=session, phone=FIRST)
        done.set()

    with Session(sqlite_engine) as reader:
        assert reader.exec(select(Citizen)).all() == []
        thread = threading.Thread(target=write)
        thread.start()
        assert done.wait(10), "the writer waited for a reader"
    thread.join(10)
