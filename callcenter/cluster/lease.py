"""One AMI consumer per PBX: a PostgreSQL session-level advisory lock per PBX name.

Why an advisory lock and not a lease row with a heartbeat: the lock lives exactly as long
as the database session that took it. A holder that dies (SIGKILL, OOM, a power cut of
its machine) closes its socket, PostgreSQL ends the session and the lock is free at
once; a session killed on the server (``pg_terminate_backend``, a failover of the
database) frees it too. Nobody has to wait for a TTL to run out, no clock is compared,
nothing is written per heartbeat, and PostgreSQL itself guarantees that two sessions
never hold it at once. A lease row would need all of that by hand and still leave a
window of a whole TTL after a crash.

The one case the lock alone does not settle is a holder cut from the database while its
socket looks alive (a network partition). Two things bound it: the lock's session asks
the server for TCP keepalives (``tcp_keepalives_*``: the server drops a silent peer in
~8 s and frees the lock), and the holder pings its own session every
``heartbeat_seconds`` with a total deadline: a ping that fails or is late means "lost",
and the holder stops consuming AMI before the server can have given the lock away.

Standbys try the lock every ``retry_seconds`` (1 s). Having it, a standby waits the
grace of one heartbeat and its deadline (1 + 2 s) before it consumes: a holder whose
session was killed on the server has noticed by then and stopped. A SIGKILLed holder is
thus replaced in about 4 s plus the new AMI login (target: 10 s).

Who holds which PBX is read from ``pg_locks`` joined to ``pg_stat_activity``: the lock's
session carries ``application_name = callcenter:<instance>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# The first key of the two-int advisory lock: this product's namespace ("cc19").
LOCK_NAMESPACE = 0x63633139
APP_PREFIX = "callcenter:"


def lock_key(pbx: str) -> int:
    """The second key: a stable signed 32-bit hash of the PBX name."""
    digest = hashlib.blake2b(pbx.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


Hook = Callable[[], Awaitable[None]]


class AmiLease:
    """Holds (or waits for) the lock of one PBX; ``on_acquired``/``on_lost`` start and
    stop the AMI consumer. ``run()`` loops until cancelled."""

    def __init__(self, *, dsn: str, pbx: str, instance: str, on_acquired: Hook,
                 on_lost: Hook, retry_seconds: float = 1.0, heartbeat_seconds: float = 1.0,
                 heartbeat_timeout: float = 2.0, connect_timeout: int = 3) -> None:
        self.dsn = dsn
        self.pbx = pbx
        self.instance = instance
        self.key = lock_key(pbx)
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self.retry_seconds = retry_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat_timeout = heartbeat_timeout
        self.connect_timeout = connect_timeout
        self.grace_seconds = heartbeat_seconds + heartbeat_timeout
        self.holding = False
        self.acquired_at: float | None = None
        self.takeovers = 0
        self.losses = 0
        self.last_error: str | None = None
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, connect_timeout=self.connect_timeout,
            application_name=f"{APP_PREFIX}{self.instance}"[:63],
            keepalives=1, keepalives_idle=5, keepalives_interval=1, keepalives_count=3)
        # The server side of the same socket: a silent holder is dropped in ~8 s.
        await conn.execute("SET tcp_keepalives_idle = 5")
        await conn.execute("SET tcp_keepalives_interval = 1")
        await conn.execute("SET tcp_keepalives_count = 3")
        return conn

    async def try_acquire(self) -> bool:
        """One attempt (a new session if needed); ``True`` when this instance holds it."""
        if self._conn is None or self._conn.closed:
            self._conn = await asyncio.wait_for(self._connect(), self.connect_timeout + 1)
        cursor = await asyncio.wait_for(
            self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                               (LOCK_NAMESPACE, self.key)), self.heartbeat_timeout)
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def still_held(self) -> bool:
        """The heartbeat: our session answers within the deadline and still has the lock."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            cursor = await asyncio.wait_for(self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND objsubid = 2 AND classid::bigint = %s"
                " AND objid::bigint = %s",
                (LOCK_NAMESPACE & 0xFFFFFFFF, self.key & 0xFFFFFFFF)),
                self.heartbeat_timeout)
            row = await cursor.fetchone()
        except (TimeoutError, psycopg.Error, OSError) as exc:
            self.last_error = f"heartbeat: {type(exc).__name__}"
            return False
        return bool(row and row[0])

    async def run(self) -> None:
        try:
            while True:
                failed = False
                try:
                    if await self.try_acquire():
                        await self._hold()  # returns when the lease is lost
                        # A holder that lost its lock (killed session, network) steps
                        # back for a grace before competing again, so a standby wins
                        # the takeover instead of the instance that just failed.
                        await asyncio.sleep(self.grace_seconds)
                        continue
                except (TimeoutError, psycopg.Error, OSError) as exc:
                    self.last_error, failed = f"{type(exc).__name__}: {exc}"[:200], True
                except Exception as exc:  # never let the loop die: /health would lie
                    log.exception("AMI lease loop of PBX %s failed", self.pbx)
                    self.last_error, failed = f"{type(exc).__name__}: {exc}"[:200], True
                if self.holding:
                    await self._lose()
                if failed:
                    await self._drop_connection()
                await asyncio.sleep(self.retry_seconds)
        finally:
            if self.holding:
                await self._lose()
            await self._drop_connection()

    async def _hold(self) -> None:
        # Fencing: a holder killed on the server side (its socket still open) notices
        # at its next heartbeat, at most ``heartbeat_seconds + heartbeat_timeout`` later.
        # Consume only after that long with the lock, so two instances never consume
        # the same PBX at once.
        await asyncio.sleep(self.grace_seconds)
        if not await self.still_held():
            await self._drop_connection()
            return
        self.holding, self.acquired_at = True, time.time()
        self.takeovers += 1
        self.last_error = None
        log.info("AMI lease of PBX %s taken by %s", self.pbx, self.instance)
        await self._on_acquired()
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            if not await self.still_held():
                break
        log.error("AMI lease of PBX %s lost (%s); stopping its AMI consumer",
                  self.pbx, self.last_error or "lock gone")
        self.losses += 1
        await self._lose()
        await self._drop_connection()

    async def _lose(self) -> None:
        self.holding, self.acquired_at = False, None
        await self._on_lost()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)

    def health(self) -> dict[str, Any]:
        return {"pbx": self.pbx, "holding": self.holding, "instance": self.instance,
                "acquired_at": self.acquired_at, "takeovers": self.takeovers,
                "losses": self.losses, "last_error": self.last_error}


def lease_holders(engine: Engine, pbxs: list[str]) -> dict[str, str | None]:
    """PBX name -> the instance holding its lease (None: nobody), from ``pg_locks``."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT l.objid::bigint, a.application_name FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory'"
            " AND l.granted AND l.objsubid = 2 AND l.classid::bigint = :ns"
            " AND l.database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"),
            {"ns": LOCK_NAMESPACE & 0xFFFFFFFF}).all()
    by_key = {int(objid): str(name) for objid, name in rows}
    holders: dict[str, str | None] = {}
    for pbx in pbxs:
        name = by_key.get(lock_key(pbx) & 0xFFFFFFFF)
        holders[pbx] = name.removeprefix(APP_PREFIX) if name else None
    return holders


class LeaseBoard:
    """``/health``'s "cluster" part: this instance's name and who holds which PBX."""

    name = "cluster"

    def __init__(self, *, engine: Engine, instance: str, pbxs: list[str]) -> None:
        self.engine = engine
        self.instance = instance
        self.pbxs = pbxs

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        try:
            holders = lease_holders(self.engine, self.pbxs)
        except Exception as exc:  # reported, not raised: /health must answer
            return {"state": "down", "instance": self.instance, "error": type(exc).__name__}
        return {"state": "up", "instance": self.instance, "lease_holders": holders}
