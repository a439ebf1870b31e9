"""Migrations build the whole schema from empty, on both backends, matching the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine
from callcenter.db.metadata import metadata
from callcenter.db.migrate import current_revision


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
