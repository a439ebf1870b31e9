"""Agent presence shared by every instance (issue 19).

Each instance's ``AgentBoard`` follows the same bus events, so the call-driven states
(ringing, on a call, wrap-up) agree by construction. What is not a call event - the
agent's "ready" after wrap-up, a break the board took before the PBX's queue picture
showed it - is published as ``PresenceChanged`` by the instance where it happened and
applied as it is by the others. Every change is also kept in ``agent_presence`` (the
current state, one row per extension), which a starting instance loads: a restarted
instance knows who is on a break or in wrap-up before anything happens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from callcenter.agent_panel.presence import AgentBoard, AgentPresence
from callcenter.cluster.bus import PgEventBus
from callcenter.cluster.events import PresenceChanged, current_event_id
from callcenter.notifier import Notifier

log = logging.getLogger(__name__)

UPSERT = text(
    "INSERT INTO agent_presence (extension, state, since, reason, caller, linkedid,"
    " updated_by) VALUES (:extension, :state, :since, :reason, :caller, :linkedid, :by)"
    " ON CONFLICT (extension) DO UPDATE SET state = excluded.state, since = excluded.since,"
    " reason = excluded.reason, caller = excluded.caller, linkedid = excluded.linkedid,"
    " updated_by = excluded.updated_by WHERE agent_presence.since <= excluded.since")


class SharedPresence:
    name = "presence"

    def __init__(self, *, board: AgentBoard, bus: PgEventBus, engine: Engine,
                 notifier: Notifier, instance: str) -> None:
        self.board = board
        self.bus = bus
        self.engine = engine
        self.instance = instance
        self.applied = 0
        self.published = 0
        self.save_errors = 0
        self._dirty: dict[str, dict[str, Any]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._applying = False
        board.listen(self._changed)
        notifier.subscribe(PresenceChanged, self._remote)

    def _changed(self, presence: AgentPresence) -> None:
        row = presence.as_dict()
        self._dirty[presence.extension] = row
        self._wake.set()
        if self._applying or current_event_id.get() is not None:
            return  # from the bus: every instance saw the same event
        self.bus.publish(PresenceChanged(
            extension=presence.extension, at=time.time(), state=row["state"],
            since=row["since"], reason=row["reason"], caller=row["caller"],
            linkedid=row["linkedid"], origin=self.instance))
        self.published += 1

    def _remote(self, event: PresenceChanged) -> None:
        if event.origin == self.instance:
            return
        self._apply(event.extension, state=event.state, since=event.since,
                    reason=event.reason, caller=event.caller, linkedid=event.linkedid)

    def _apply(self, extension: str, **fields: Any) -> None:
        self._applying = True
        try:
            if self.board.apply(extension, **fields):
                self.applied += 1
        finally:
            self._applying = False

    def load(self) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT extension, state, since, reason, caller, linkedid"
                " FROM agent_presence")).all()
        for extension, state, since, reason, caller, linkedid in rows:
            self._apply(extension, state=state, since=since, reason=reason or "",
                        caller=caller or "", linkedid=linkedid or "")
        return len(rows)

    def save(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            for row in rows:
                conn.execute(UPSERT, {**row, "by": self.instance})

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            rows, self._dirty = list(self._dirty.values()), {}
            try:
                await asyncio.to_thread(self.save, rows)
            except Exception:
                self.save_errors += 1
                log.exception("agent presence not saved; kept for the next change")
                for row in rows:
                    self._dirty.setdefault(row["extension"], row)
                await asyncio.sleep(1.0)
                self._wake.set()

    async def start(self) -> None:
        await asyncio.to_thread(self.load)
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        if self._dirty:
            rows, self._dirty = list(self._dirty.values()), {}
            try:
                await asyncio.to_thread(self.save, rows)
            except Exception:
                log.exception("agent presence not saved at shutdown")

    def health(self) -> dict[str, Any]:
        return {"state": "up", "applied": self.applied, "published": self.published,
                "save_errors": self.save_errors, "pending": len(self._dirty)}
