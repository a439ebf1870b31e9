"""Pushes to the agents' websockets: the pop goes ONLY to the ringing extension.

The hub subscribes to the tracker's domain events on the app's notifier (services never
touch a websocket); one hub per app, built by ``compose``, subscribed while the app runs
(``start``/``stop``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket
from sqlalchemy.engine import Engine
from sqlmodel import Session

from callcenter.agent_panel.presence import AgentBoard, AgentPresence, AgentState
from callcenter.agent_panel.services import (
    ReferenceNames,
    first_pop,
    load_reference_names,
    pop_history,
)
from callcenter.calls.events import AgentNoAnswer, AgentRinging, CallAnswered, CallEnded
from callcenter.cluster.events import current_event_id
from callcenter.followups.events import TasksChanged
from callcenter.notifier import Notifier
from callcenter.web.push import close_stuck, push_json

log = logging.getLogger(__name__)


def is_trunk_leg(interface: str) -> bool:
    """``PJSIP/citizens`` (a trunk: the party is a citizen's number), not a phone such as
    ``PJSIP/2101``. The board follows phones; an event without an interface is a phone's."""
    device = interface.partition("/")[2]
    return bool(device) and not device.isdigit()


class PanelHub:
    """Agent sockets by extension, the shared ``AgentBoard``, and the last pop of each."""

    def __init__(self, *, engine: Engine, notifier: Notifier) -> None:
        self._engine = engine
        self._notifier = notifier
        self.board = AgentBoard()
        self._sockets: dict[str, set[WebSocket]] = defaultdict(set)
        self.last_pop: dict[str, dict[str, Any]] = {}
        self._last_event: dict[str, AgentRinging] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reference: ReferenceNames | None = None
        self.board.listen(self._on_presence)
        self._unsubscribe: list[Callable[[], None]] = []
        # Several instances: (extension, last bus id seen) -> the pops after it
        # (``PgEventBus.missed_pops``); None on the in-process path.
        self.missed_pops: Callable[[str, int], list[tuple[int, AgentRinging]]] | None = None

    def start(self) -> None:
        """Subscribe, so the board follows calls before any page opens."""
        if self._unsubscribe:
            return
        notifier = self._notifier
        self._unsubscribe = [
            notifier.subscribe(AgentRinging, self.on_ringing),
            notifier.subscribe(AgentNoAnswer, self.on_no_answer),
            notifier.subscribe(CallAnswered, self.on_answered),
            notifier.subscribe(CallEnded, self.on_ended),
            notifier.subscribe(TasksChanged, self.on_tasks_changed),
        ]

    # -- sockets ------------------------------------------------------------------------

    def attach(self, extension: str, websocket: WebSocket) -> None:
        self._sockets[extension].add(websocket)

    def detach(self, extension: str, websocket: WebSocket) -> None:
        self._sockets[extension].discard(websocket)

    def connected(self) -> int:
        return sum(len(s) for s in self._sockets.values())

    async def send(self, extension: str, message: dict[str, Any]) -> None:
        """One JSON text to every socket of ``extension``; a stuck socket is dropped."""
        for ws in await push_json(list(self._sockets.get(extension, ())), message):
            self.detach(extension, ws)
            self._spawn(close_stuck(ws))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_presence(self, presence: AgentPresence) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # changed outside the loop (tests): nobody to push to
        self._spawn(self.send(presence.extension, {"type": "state", **presence.as_dict()}))

    # -- events in ----------------------------------------------------------------------

    async def on_ringing(self, event: AgentRinging) -> None:
        """Two pushes: at once what the ring says, then the caller's history."""
        if is_trunk_leg(event.interface):
            self._agent_dials_out(event)
            return
        self.board.fire(event.agent, "ring", caller=event.caller, linkedid=event.linkedid)
        reference = await self._reference_names()
        pop = first_pop(event=event, reference=reference)
        pop["pushed_at"] = time.time()
        event_id = current_event_id.get()
        if event_id is not None:
            pop["event_id"] = event_id
        self.last_pop[event.agent] = pop
        self._last_event[event.agent] = event
        if not self._sockets.get(event.agent):
            return  # no panel open: the history is read when one connects (``replay``)
        await self.send(event.agent, pop)
        await self._send_history(event, reference)

    async def _send_history(self, event: AgentRinging, reference: ReferenceNames) -> None:
        engine = self._engine

        def load() -> dict[str, Any]:
            with Session(engine) as session:  # read-only: nothing to commit
                return pop_history(session=session, event=event, reference=reference)

        history = await asyncio.to_thread(load)
        history["pushed_at"] = time.time()
        await self.send(event.agent, history)

    async def replay(self, extension: str) -> str:
        """A panel opened (or reconnected) during a call gets that call's pop again;
        returns the linkedid replayed ("" when none)."""
        presence = self.board.get(extension)
        event = self._last_event.get(extension)
        if event is None or not presence.linkedid or event.linkedid != presence.linkedid:
            return ""
        await self.send(extension, self.last_pop[extension])
        await self._send_history(event, await self._reference_names())
        return event.linkedid

    async def resume(self, extension: str, since: int | None, *, replayed: str = "") -> None:
        """A panel back after a break in its socket sends the last bus id it saw: the
        pops it missed meanwhile (its instance restarted, the network blinked) are sent
        again, oldest first; ``replayed`` is the call ``replay`` already sent."""
        if since is None or self.missed_pops is None:
            return
        missed = await asyncio.to_thread(self.missed_pops, extension, since)
        reference = await self._reference_names()
        for event_id, event in missed:
            if event.linkedid == replayed:
                continue
            pop = first_pop(event=event, reference=reference)
            pop.update(pushed_at=time.time(), event_id=event_id, resumed=True)
            await self.send(extension, pop)
            await self._send_history(event, reference)

    async def _reference_names(self) -> ReferenceNames:
        if self._reference is not None:
            return self._reference
        return await asyncio.to_thread(self._load_reference)

    def _load_reference(self) -> ReferenceNames:
        with Session(self._engine) as session:
            reference = load_reference_names(session=session)
        self._reference = reference
        return reference

    def _agent_dials_out(self, event: AgentRinging) -> None:
        """A citizen's number rings through the trunk. In a callback or click-to-call the
        call's first leg is the agent's phone, answered already: that agent is on this
        call from now (so its end starts their wrap-up). The citizen's number never
        becomes a board entry (it would be "paused" in the queue and logged)."""
        agent = self.board.peek(event.caller)
        if agent is not None and agent.state in (AgentState.AVAILABLE, AgentState.RINGING):
            self.board.fire(event.caller, "answer", caller=event.agent,
                            linkedid=event.linkedid)

    def on_no_answer(self, event: AgentNoAnswer) -> None:
        if not is_trunk_leg(event.interface):
            self.board.fire(event.agent, "no_answer", linkedid=event.linkedid)

    def on_answered(self, event: CallAnswered) -> None:
        if not is_trunk_leg(event.interface):
            self.board.fire(event.agent, "answer", linkedid=event.linkedid)

    async def on_ended(self, event: CallEnded) -> None:
        for presence in self.board.all():
            if presence.linkedid == event.linkedid:
                self.board.fire(presence.extension, "end", linkedid=event.linkedid)
                await self.send(presence.extension, {
                    "type": "ended", "linkedid": event.linkedid, "outcome": event.outcome.value,
                    "talk_seconds": event.talk_seconds,
                })

    async def on_tasks_changed(self, event: TasksChanged) -> None:
        """Every open list re-reads ``/api/tasks`` (each sees only what it may)."""
        message = {"type": "tasks_changed", "task_id": event.task_id, "action": event.action}
        for extension in list(self._sockets):
            await self.send(extension, message)

    def stop(self) -> None:
        """Unsubscribe (the app's lifespan drains the notifier first)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
