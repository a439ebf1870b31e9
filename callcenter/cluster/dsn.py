"""The libpq connection string of the store (psycopg 3 talks to it directly here)."""

from __future__ import annotations

import os
import socket

from sqlalchemy.engine import make_url


def is_postgres(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def libpq_dsn(database_url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) -> ``postgresql://...`` (libpq)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


def default_instance_name() -> str:
    """``host:pid``: what ``/health`` and ``pg_stat_activity`` name this process by."""
    return f"{socket.gethostname()}:{os.getpid()}"
