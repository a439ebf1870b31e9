"""Shared fixtures: the store over every backend (SQLite always, PostgreSQL when
``CALLCENTER_TEST_POSTGRES_URL`` is set - ``scripts/test`` and ``.ci/run`` always set it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from callcenter.compose import prepare_store
from callcenter.db.engine import build_engine
from callcenter.db.metadata import metadata

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
POSTGRES_URL = os.environ.get("CALLCENTER_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
KEEP_TABLES = {"department", "category", "neighbourhood", "alembic_version"}
# The PBX fixtures (sandbox Asterisk, AMI, SIPp, the served bridge) for e2e and browser.
pytest_plugins = ["support.pbx_plugin"]


def create_postgres_database(prefix: str = "cc_test") -> str:
    """A new empty database on the test server; returns its URL."""
    base = make_url(POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base.set(drivername="postgresql").render_as_string(False),
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    base = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def _migrated_postgres() -> Iterator[Engine]:
    url = create_postgres_database()
    engine = build_engine(url)
    prepare_store(engine)
    yield engine
    engine.dispose()
    drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated store with reference data; PostgreSQL is emptied between tests."""
    if request.param == "sqlite":
        eng = build_engine(f"sqlite:///{tmp_path / 'store.db'}")
        prepare_store(eng)
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("_migrated_postgres")
    yield eng
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t.name not in KEEP_TABLES)
    with eng.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()
