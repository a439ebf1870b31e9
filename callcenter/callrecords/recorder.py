"""Turns the tracker's ``CallEnded`` events into call records, and fills gaps from
Asterisk's own logs (calls that ended while the bridge was down or AMI disconnected)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.callrecords.models import Call
from callcenter.callrecords.recovery import recover_calls
from callcenter.callrecords.services import record_call
from callcenter.calls.events import CallEnded
from callcenter.db.engine import session_scope
from callcenter.settings import PbxSettings, Settings

log = logging.getLogger(__name__)


MAX_BATCH = 100
"""Call records written in one transaction at most (a burst of hangups)."""


class CallRecorder:
    """Receiver of one PBX's ``CallEnded``; every write is idempotent by (pbx, linkedid).

    ``pbx`` names the PBX and where its records are (default: the flat settings).
    Writes are batched: one writer task at a time stores every call that ended while
    the previous batch was being written, in one transaction (one BEGIN and one commit,
    SQLite's write lock taken once, not once per call). Nothing waits to fill a batch:
    a lone call is written at once. If a batch fails, each of its calls is written on
    its own, so one bad record cannot lose the others. Store work runs on ``runner``
    (the app's bounded ``store`` pool), never on the event loop.
    """

    def __init__(self, *, engine: Engine, settings: Settings,
                 pbx: PbxSettings | None = None,
                 runner: Callable[..., Awaitable[Any]] | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.pbx = pbx or settings.pbx_list()[0]
        self.recorded = 0
        self.recovered = 0
        self.failures = 0
        self.batches = 0
        self._lock = asyncio.Lock()
        self._run: Callable[..., Awaitable[Any]] = runner or asyncio.to_thread
        self._pending: list[tuple[CallEnded, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def on_call_ended(self, ended: CallEnded) -> None:
        try:
            if not ended.end_seen:
                # It ended while AMI was away: the tracker only knows when it noticed
                # (its waits run until the resync). Asterisk's CDR/queue_log know the
                # real end; recovery stores it first, the write below is then a no-op.
                await self.recover()
            await self._store(ended)
            self.recorded += 1
        except Exception:
            self.failures += 1
            log.exception("could not record call %s; recovery will retry", ended.linkedid)

    async def _store(self, ended: CallEnded) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((ended, done))
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self._run(self._write_all, [ended for ended, _ in batch])
                self.batches += 1
            except Exception:
                log.warning("a batch of %d call records failed; writing them one by one",
                            len(batch), exc_info=True)
                for ended, done in batch:
                    try:
                        await self._run(self._write_all, [ended])
                    except Exception as exc:
                        _settle(done, exc)
                    else:
                        _settle(done, None)
                continue
            for _, done in batch:
                _settle(done, None)

    def _write_all(self, batch: list[CallEnded]) -> None:
        with session_scope(self.engine) as session:
            for ended in batch:
                record_call(session=session, ended=ended, source="ami", pbx=self.pbx.name)

    async def recover(self) -> int:
        """Store every call in Asterisk's CDR/queue_log that the store lacks."""
        async with self._lock:  # start-up, reconnect and the timer may overlap
            added: int = await self._run(self._recover)
            return added

    def _recover(self) -> int:
        since = time.time() - self.settings.recovery_lookback_hours * 3600
        log_dir = self.pbx.log_dir
        found = recover_calls(
            cdr_file=log_dir / "cdr-csv" / "Master.csv",
            queue_log=log_dir / "queue_log",
            context=self.pbx.inbound_context,
            since=since,
        )
        if not found:
            return 0
        with session_scope(self.engine) as session:
            known = _known_linkedids(session, since, self.pbx.name)
            added = 0
            for ended in found:
                if ended.linkedid not in known:
                    record_call(session=session, ended=ended, source="recovery",
                                pbx=self.pbx.name)
                    added += 1
        if added:
            log.info("recovered %d call(s) from Asterisk's records", added)
        self.recovered += added
        return added

    def health(self) -> dict[str, int]:
        return {"recorded": self.recorded, "recovered": self.recovered, "failures": self.failures,
                "batches": self.batches}


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # its waiter was cancelled
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _known_linkedids(session: Session, since: float, pbx: str) -> set[str]:
    start = datetime.fromtimestamp(since, UTC)
    return set(session.exec(select(Call.linkedid).where(
        Call.pbx == pbx, Call.entered_at >= start)).all())


def count_calls(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Call)).one())
