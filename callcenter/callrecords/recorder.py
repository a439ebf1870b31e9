"""Turns the tracker's ``CallEnded`` events into call records, and fills gaps from
Asterisk's own logs (calls that ended while the bridge was down or AMI disconnected)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

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


class CallRecorder:
    """Receiver of one PBX's ``CallEnded``; every write is idempotent by (pbx, linkedid).

    ``pbx`` names the PBX and where its records are (default: the flat settings)."""

    def __init__(self, *, engine: Engine, settings: Settings,
                 pbx: PbxSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.pbx = pbx or settings.pbx_list()[0]
        self.recorded = 0
        self.recovered = 0
        self.failures = 0
        self._lock = asyncio.Lock()

    async def on_call_ended(self, ended: CallEnded) -> None:
        try:
            if not ended.end_seen:
                # It ended while AMI was away: the tracker only knows when it noticed
                # (its waits run until the resync). Asterisk's CDR/queue_log know the
                # real end; recovery stores it first, the write below is then a no-op.
                await self.recover()
            await asyncio.to_thread(self._write, ended, "ami")
            self.recorded += 1
        except Exception:
            self.failures += 1
            log.exception("could not record call %s; recovery will retry", ended.linkedid)

    def _write(self, ended: CallEnded, source: str) -> None:
        with session_scope(self.engine) as session:
            record_call(session=session, ended=ended, source=source, pbx=self.pbx.name)

    async def recover(self) -> int:
        """Store every call in Asterisk's CDR/queue_log that the store lacks."""
        async with self._lock:  # start-up, reconnect and the timer may overlap
            return await asyncio.to_thread(self._recover)

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
        return {"recorded": self.recorded, "recovered": self.recovered, "failures": self.failures}


def _known_linkedids(session: Session, since: float, pbx: str) -> set[str]:
    start = datetime.fromtimestamp(since, UTC)
    return set(session.exec(select(Call.linkedid).where(
        Call.pbx == pbx, Call.entered_at >= start)).all())


def count_calls(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Call)).one())
