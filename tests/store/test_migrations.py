"""Migrations build the whole schema from empty, on both backends, matching the models."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine
from callcenter.db.metadata import metadata
from callcenter.db.migrate import current_revision, upgrade


def test_upgrade_from_empty_creates_every_table_and_matches_models(
    empty_database_url: str,
) -> None:
    engine = build_engine(empty_database_url)
    try:
        assert current_revision(engine) is None
        prepare_store(engine)
        assert current_revision(engine) is not None
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        prepare_store(engine)  # idempotent: a second start changes nothing
    finally:
        engine.dispose()


def test_0005_backfills_request_event_linkedid_from_its_json(empty_database_url: str) -> None:
    """Lines written before 0005 name their call only in ``data``; the upgrade copies it
    into the indexed column (and leaves lines without one empty)."""
    engine = build_engine(empty_database_url)
    try:
        upgrade(engine, "0004_followups")
        with engine.begin() as conn:
            for statement in [
                "INSERT INTO department (code, name_fa, name_en) VALUES ('d', 'd', 'd')",
                "INSERT INTO category (code, digit, name_fa, name_en, department_code, "
                "deadline_hours) VALUES ('c', 9, 'c', 'c', 'd', 24)",
                "INSERT INTO citizen (id, phone, opted_out, created_at) "
                "VALUES (1, '+989131234567', false, :at)",
                "INSERT INTO citizen_request (id, channel, category_code, tracking_code, "
                "citizen_id, department_code, status, needs_triage, reporter_count, "
                "created_at, updated_at) VALUES (1, 'phone', 'c', '10000009', 1, 'd', 'new', "
                "false, 1, :at, :at)",
                "INSERT INTO request_event (id, request_id, at, kind, actor, data) VALUES "
                "(1, 1, :at, 'contact', 'a', '{\"linkedid\": \"1700000000.7\"}'), "
                "(2, 1, :at, 'status', 'a', '{\"note\": 1}'), (3, 1, :at, 'created', 'a', NULL)",
            ]:
                conn.execute(text(statement), {"at": datetime(2026, 1, 1, tzinfo=UTC)})
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, linkedid FROM request_event ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "1700000000.7"), (2, None), (3, None)]
    finally:
        engine.dispose()


def test_0009_keeps_the_citizens_rows_and_lets_a_citizen_have_no_phone(
    empty_database_url: str,
) -> None:
    """A store at 0007_i19_pbx with a citizen, their request and a bot chat pointing at
    the citizen; upgrade to head (SQLite rebuilds ``citizen``: foreign keys off for the
    run). Expect every row kept and still joined, foreign keys on again (SQLite), and a
    citizen without a phone number accepted."""
    from sqlmodel import Session

    from callcenter.citizens.models import Citizen

    engine = build_engine(empty_database_url)
    at = {"at": datetime(2026, 1, 1, tzinfo=UTC)}
    try:
        upgrade(engine, "0007_i19_pbx")
        with engine.begin() as conn:
            for statement in [
                "INSERT INTO department (code, name_fa, name_en) VALUES ('d', 'd', 'd')",
                "INSERT INTO category (code, digit, name_fa, name_en, department_code, "
                "deadline_hours) VALUES ('c', 9, 'c', 'c', 'd', 24)",
                "INSERT INTO citizen (id, phone, opted_out, created_at) "
                "VALUES (1, '+989131234567', false, :at)",
                "INSERT INTO citizen_request (id, channel, category_code, tracking_code, "
                "citizen_id, department_code, status, needs_triage, reporter_count, "
                "created_at, updated_at) VALUES (1, 'social', 'c', '10000009', 1, 'd', "
                "'new', false, 1, :at, :at)",
                "INSERT INTO bot_chat (chat_id, user_id, citizen_id, state, draft, "
                "opted_out, created_at, updated_at) VALUES (77, 77, 1, 'idle', '{}', false, "
                ":at, :at)",
            ]:
                conn.execute(text(statement), at)
        upgrade(engine)
        with engine.connect() as conn:
            joined = conn.execute(text(
                "SELECT r.tracking_code, c.phone, b.chat_id FROM citizen_request r "
                "JOIN citizen c ON c.id = r.citizen_id JOIN bot_chat b ON b.citizen_id = c.id"
            )).all()
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert [tuple(r) for r in joined] == [("10000009", "+989131234567", 77)]
        with Session(engine) as session:
            # (explicit ids: the rows above were inserted by id, the sequence never moved)
            session.add(Citizen(id=2, phone=None))
            session.add(Citizen(id=3, phone=None))  # NULLs never collide on the index
            session.commit()
    finally:
        engine.dispose()
