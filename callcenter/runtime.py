"""The parts that ``callcenter serve`` runs, started and stopped together.

A part has ``start()``, ``stop()`` and ``health()``; one that cannot reach its peer
(AMI with no Asterisk) keeps retrying in the background instead of failing the start.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from callcenter.db.engine import BUSY_TIMEOUT_SECONDS, SQLITE_BEGIN, SQLITE_BUSY_MS

log = logging.getLogger(__name__)


class Part(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def health(self) -> dict[str, Any]: ...


WRITE_PROBE_WAIT_MS = 100  # a normal write holds SQLite's lock for milliseconds


class DatabasePart:
    """Reports whether the store answers a trivial query and, on SQLite, whether its one
    write lock can be had (held for long elsewhere, every write waits: ``locked``)."""

    name = "database"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.engine.dispose()

    def health(self) -> dict[str, Any]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            if self.engine.dialect.name == "sqlite" and not _sqlite_writable(self.engine):
                return {"state": "locked", "backend": "sqlite",
                        "error": "the write lock is held elsewhere"}
        except Exception as exc:  # reported, not raised: /health must answer
            return {"state": "down", "error": type(exc).__name__}
        return {"state": "up", "backend": self.engine.dialect.name}


def _sqlite_writable(engine: Engine) -> bool:
    """Take and drop the write lock, waiting ``WRITE_PROBE_WAIT_MS`` at most (the begin
    hook of ``db.engine`` sets the short wait, then BEGINs IMMEDIATE)."""
    probe = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE",
                                        SQLITE_BUSY_MS: WRITE_PROBE_WAIT_MS})
    with probe.connect() as connection:
        try:
            connection.exec_driver_sql("SELECT 1")
        except OperationalError:
            return False
        finally:
            connection.rollback()
            # The pooled connection goes back with the engine's own lock wait.
            connection.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            connection.rollback()
        return True


class Runtime:
    """Starts parts in order, stops them in reverse, and gathers their health."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self._started: list[Part] = []

    async def start(self) -> None:
        for part in self.parts:
            await part.start()
            self._started.append(part)
            log.info("started %s", part.name)

    async def stop(self) -> None:
        while self._started:
            part = self._started.pop()
            try:
                await part.stop()
            except Exception:
                log.exception("stopping %s failed", part.name)

    def health(self) -> dict[str, Any]:
        parts = {part.name: part.health() for part in self.parts}
        healthy = all(p.get("state") in {"up", "listening", "connected", "running", "disabled",
                                         "standby"}
                      for p in parts.values())
        return {"status": "ok" if healthy else "degraded", "parts": parts}
