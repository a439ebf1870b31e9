"""SQLite serves one process: a second ``serve`` on the same file refuses to start.

``SingleInstanceGuard`` takes an exclusive ``flock`` on ``<database>.serve.lock`` (held
until the process ends, so a SIGKILLed instance leaves no stale lock) and names the pid
that holds it when it cannot.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url


class SecondInstance(RuntimeError):
    """Another process already serves this SQLite database."""


def sqlite_lock_path(database_url: str) -> Path | None:
    """Where the lock lives (None: not SQLite, or an in-memory database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).with_name(Path(url.database).name + ".serve.lock")


class SingleInstanceGuard:
    name = "single_instance"

    def __init__(self, database_url: str) -> None:
        self.path = sqlite_lock_path(database_url)
        self._handle: IO[str] | None = None

    async def start(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SecondInstance(
                f"the SQLite database {self.path.with_suffix('').with_suffix('')} is already"
                f" served by pid {holder}. SQLite serves one process: to run several"
                " instances, give them one PostgreSQL database (CALLCENTER_DATABASE_URL="
                "postgresql://...); see docs/deployment.md") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    async def stop(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def health(self) -> dict[str, Any]:
        return {"state": "up", "lock": str(self.path) if self.path else None}
