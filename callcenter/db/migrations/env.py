"""Alembic environment: the engine comes from ``migrate.alembic_config``, never a URL here."""

from __future__ import annotations

from alembic import context

from callcenter.db.metadata import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.dbapi_connection
    if sqlite:
        # Batch mode rebuilds a table (copy, drop, rename); with foreign keys on, dropping
        # a table other rows point at fails (deferring does not help: SQLite counts the
        # drop's violations and never uncounts them at the rename). The pragma works
        # outside a transaction only, so on the driver's connection before any BEGIN;
        # the keys are checked once the migrations are in.
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=ON")
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
