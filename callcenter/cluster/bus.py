"""The event bus of several instances: events are rows of ``cluster_event``, woken with
LISTEN/NOTIFY (psycopg 3), and every instance - the writer included - delivers them to
its own notifier in id order. So the panel and supervisor hubs of every instance hear
the same events, and a panel that reconnects (its instance restarted, the network
blinked) asks for what it missed by the last id it saw (``missed``).

Writes: ``publish`` is called from the AMI bridge's callbacks (synchronous); events wait
in a bounded queue and one writer inserts them, a batch per transaction with one
``NOTIFY``. Reads: one connection LISTENs, another reads ``id > last`` on every wake
and at least every ``POLL_SECONDS`` (a lost notification costs at most that). Ids of
concurrent writers (two PBX holders) can commit out of order: an id skipped over is
looked for again for ``GAP_SECONDS`` before it is given up.

SQLite (one process) does not use this: events go straight to the notifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.engine import Engine

from callcenter.backoff import backoff_delay
from callcenter.calls.events import AgentRinging
from callcenter.clock import utcnow
from callcenter.cluster.codec import UnknownKind, agent_of, decode, encode
from callcenter.cluster.events import current_event_id
from callcenter.notifier import Notifier

log = logging.getLogger(__name__)

CHANNEL = "callcenter_events"
POLL_SECONDS = 1.0
GAP_SECONDS = 5.0
MAX_QUEUED = 50_000
BATCH = 500
PRUNE_EVERY_SECONDS = 600.0
RESUME_WINDOW = timedelta(minutes=15)  # a panel's missed pops older than this: not sent


class PgEventBus:
    name = "event_bus"

    def __init__(self, *, dsn: str, engine: Engine, notifier: Notifier, instance: str,
                 retention_hours: float = 24.0) -> None:
        self.dsn = dsn
        self.engine = engine
        self.notifier = notifier
        self.instance = instance
        self.retention = timedelta(hours=retention_hours)
        self._queue: asyncio.Queue[Any] = asyncio.Queue(MAX_QUEUED)
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self.last_id = 0
        self._gaps: dict[int, float] = {}
        self.published = 0
        self.delivered = 0
        self.dropped = 0
        self.write_errors = 0
        self.read_errors = 0
        self.last_lag_seconds: float | None = None
        self.max_lag_seconds = 0.0
        self.listening = False
        self.last_error: str | None = None

    # -- out --------------------------------------------------------------------------

    def publish(self, event: Any) -> None:
        """Queue ``event`` for the store (every instance then delivers it)."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            log.error("event bus queue full: %s dropped", type(event).__name__)

    async def _writer(self) -> None:
        holder: list[psycopg.AsyncConnection[Any]] = []
        try:
            await self._write_forever(holder)
        finally:
            await _close(holder)

    async def _write_forever(self, holder: list[psycopg.AsyncConnection[Any]]) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        attempt = 0
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            rows = []
            for event in batch:
                try:
                    kind, payload = encode(event)
                except UnknownKind:
                    continue
                rows.append((kind, agent_of(event), self.instance, Jsonb(payload)))
            while rows:
                try:
                    if conn is None or conn.closed:
                        conn = await self._connect("bus-writer")
                        holder[:] = [conn]
                    async with conn.transaction():
                        async with conn.cursor() as cursor:
                            await cursor.executemany(
                                "INSERT INTO cluster_event (created_at, kind, agent, origin,"
                                " payload) VALUES (now(), %s, %s, %s, %s)", rows)
                        await conn.execute(f"NOTIFY {CHANNEL}")
                    self.published += len(rows)
                    attempt = 0
                    break
                except (psycopg.Error, OSError) as exc:
                    self.write_errors += 1
                    self.last_error = f"write: {type(exc).__name__}"
                    log.warning("event bus write failed (%s); retrying", type(exc).__name__)
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            await conn.close()
                    conn = None
                    attempt += 1
                    await asyncio.sleep(backoff_delay(attempt=attempt, base=0.2, cap=5.0))
            for _ in batch:
                self._queue.task_done()

    # -- in ---------------------------------------------------------------------------

    async def _connect(self, role: str) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self.dsn, autocommit=True, connect_timeout=3,
            application_name=f"callcenter-{role}:{self.instance}"[:63])

    async def _listener(self) -> None:
        attempt = 0
        while True:
            try:
                async with await self._connect("bus-listen") as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening, attempt = True, 0
                    self._wake.set()  # read whatever came while we were not listening
                    while True:  # each timeout ends the generator; listen on
                        async for _ in conn.notifies(timeout=POLL_SECONDS):
                            self._wake.set()
            except (psycopg.Error, OSError) as exc:
                self.listening = False
                self.read_errors += 1
                self.last_error = f"listen: {type(exc).__name__}"
                attempt += 1
                await asyncio.sleep(backoff_delay(attempt=attempt, base=0.2, cap=5.0))

    async def _reader(self) -> None:
        holder: list[psycopg.AsyncConnection[Any]] = []
        try:
            await self._read_forever(holder)
        finally:
            await _close(holder)

    async def _read_forever(self, holder: list[psycopg.AsyncConnection[Any]]) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        attempt = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                if conn is None or conn.closed:
                    conn = await self._connect("bus-read")
                    holder[:] = [conn]
                await self._read_new(conn)
                attempt = 0
            except (psycopg.Error, OSError) as exc:
                self.read_errors += 1
                self.last_error = f"read: {type(exc).__name__}"
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                conn = None
                attempt += 1
                await asyncio.sleep(backoff_delay(attempt=attempt, base=0.2, cap=5.0))

    async def _read_new(self, conn: psycopg.AsyncConnection[Any]) -> None:
        now = time.monotonic()
        self._gaps = {gap: seen for gap, seen in self._gaps.items()
                      if now - seen < GAP_SECONDS}
        cursor = await conn.execute(
            "SELECT id, kind, payload, extract(epoch FROM now() - created_at)"
            " FROM cluster_event WHERE id > %s OR id = ANY(%s) ORDER BY id LIMIT 5000",
            (self.last_id, list(self._gaps)))
        for event_id, kind, payload, lag in await cursor.fetchall():
            if event_id in self._gaps:
                del self._gaps[event_id]
            elif event_id > self.last_id:
                for missing in range(self.last_id + 1, min(event_id, self.last_id + 1000)):
                    self._gaps.setdefault(missing, now)
                self.last_id = event_id
            else:
                continue
            self._deliver(event_id, kind, payload, float(lag or 0.0))

    def _deliver(self, event_id: int, kind: str, payload: Any, lag: float) -> None:
        try:
            event = decode(kind, payload if isinstance(payload, dict) else json.loads(payload))
        except (UnknownKind, ValueError):
            log.warning("event bus: event %d (%s) not understood; skipped", event_id, kind)
            return
        token = current_event_id.set(event_id)
        try:
            self.notifier.publish(event)
        finally:
            current_event_id.reset(token)
        self.delivered += 1
        self.last_lag_seconds = lag
        self.max_lag_seconds = max(self.max_lag_seconds, lag)

    # -- resume and pruning -----------------------------------------------------------

    def missed_pops(self, agent: str, since: int) -> list[tuple[int, AgentRinging]]:
        """The pops of ``agent`` after bus id ``since`` (newest 5, oldest first)."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, payload FROM cluster_event WHERE agent = :agent AND id > :since"
                " AND kind = 'AgentRinging' AND created_at > :after"
                " ORDER BY id DESC LIMIT 5"),
                {"agent": agent, "since": since, "after": utcnow() - RESUME_WINDOW}).all()
        found = []
        for event_id, payload in reversed(rows):
            data = payload if isinstance(payload, dict) else json.loads(payload)
            found.append((int(event_id), decode("AgentRinging", data)))
        return found

    def prune(self) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(text("DELETE FROM cluster_event WHERE created_at < :before"),
                                  {"before": utcnow() - self.retention})
        return int(result.rowcount or 0)

    async def _pruner(self) -> None:
        while True:
            try:
                removed = await asyncio.to_thread(self.prune)
                if removed:
                    log.info("event bus: %d old event(s) pruned", removed)
            except Exception:
                log.exception("event bus pruning failed")
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        def newest() -> int:
            with self.engine.connect() as conn:
                return int(conn.execute(text(
                    "SELECT coalesce(max(id), 0) FROM cluster_event")).scalar_one())

        self.last_id = await asyncio.to_thread(newest)  # what came before us is history
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(coro) for coro in (
            self._listener(), self._reader(), self._writer(), self._pruner())]

    async def stop(self) -> None:
        # Let queued events reach the store (bounded), then stop.
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), 3)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    def health(self) -> dict[str, Any]:
        state = "up" if self.listening else "down"
        if self.backlog > 1000:  # the store does not take our writes: pops are late
            state = "backlog"
        return {"state": state, "last_id": self.last_id, "published": self.published,
                "delivered": self.delivered, "queued": self.backlog, "dropped": self.dropped,
                "write_errors": self.write_errors, "read_errors": self.read_errors,
                "lag_seconds": self.last_lag_seconds, "max_lag_seconds": self.max_lag_seconds,
                "last_error": self.last_error}


async def _close(holder: list[psycopg.AsyncConnection[Any]]) -> None:
    for conn in holder:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(), 2)
