"""Throwaway PostgreSQL databases for the store tests (``CALLCENTER_TEST_POSTGRES_URL``)."""

from __future__ import annotations

import os
import uuid

import psycopg
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("CALLCENTER_TEST_POSTGRES_URL", "")


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
