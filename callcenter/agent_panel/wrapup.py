"""Wrap-up known to Asterisk: the one place that pauses an agent in the queue while
they finish the call's form, and unpauses them when they are done.

The board's state machine says when wrap-up starts (``on_call --end--> wrap_up``) and
ends (``ready`` from the panel, or the configured maximum here). This listener turns
those transitions into AMI ``QueuePause`` (reason ``wrap-up``), so ``app_queue`` rings
the next free agent instead of the one still typing - Asterisk's own ``wrapuptime``
is a fixed number of seconds per queue, which is why the bridge does it.

Ending wrap-up any other way: a break re-pauses with the break's reason (the panel's
action does that), leaving the queue removes the member, a direct call to the
extension keeps the pause until that call's own wrap-up ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from callcenter.agent_panel.ports import QueueMemberActions
from callcenter.agent_panel.presence import AgentBoard, AgentPresence, AgentState
from callcenter.ami.exceptions import AmiError

log = logging.getLogger(__name__)

WRAP_UP_REASON = "wrap-up"  # QueuePause Reason (shown on the supervisors' page)
NEXT_CALL_SECONDS = 40.0  # the end-of-wrap-up callback hook's total deadline


def interface_of(extension: str) -> str:
    return f"PJSIP/{extension}"


class WrapUpPauser:
    """Listens to the ``AgentBoard``; ``actions`` is read at each change (the AMI bridge
    is built after the board). A runtime part: ``/health`` shows who is held."""

    name = "wrap-up"

    def __init__(self, *, board: AgentBoard, actions: Callable[[], QueueMemberActions | None],
                 queue_name: str, max_seconds: float,
                 next_call: Callable[[str], Awaitable[bool]] | None = None,
                 hold_after_call: float = 3.0,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self._board = board
        self._actions = actions
        self._queue = queue_name
        self._max = max_seconds
        self._sleep = sleep
        # Asked before the unpause: places an older callback to this agent (the callback
        # keeps its turn); the unpause then waits ``hold_after_call`` for the phone to ring.
        self._next_call = next_call
        self._hold = hold_after_call
        self._paused: set[str] = set()  # extensions we paused for wrap-up
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        board.listen(self.on_presence)

    def paused(self) -> frozenset[str]:
        return frozenset(self._paused)

    def on_presence(self, presence: AgentPresence) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # changed outside the loop (unit tests of the board): no PBX
        extension = presence.extension
        self._cancel_timer(extension)
        if presence.state == AgentState.WRAP_UP:
            if extension not in self._paused:
                self._paused.add(extension)
                self._spawn(self._set_pause(extension, paused=True))
            self._timers[extension] = self._spawn(self._expire(extension))
        elif extension in self._paused and presence.state not in (
                AgentState.RINGING, AgentState.ON_CALL):
            self._paused.discard(extension)
            if presence.state == AgentState.AVAILABLE:
                self._spawn(self._end(extension))

    async def _end(self, extension: str) -> None:
        if self._next_call is not None:
            try:
                # bounded: the Originate waits for the agent to answer (30 s at most)
                placed = await asyncio.wait_for(self._next_call(interface_of(extension)),
                                                timeout=NEXT_CALL_SECONDS)
            except Exception:  # the unpause must happen whatever the hook did
                log.exception("placing a callback at the end of %s's wrap-up", extension)
                placed = False
            if placed:
                await self._sleep(self._hold)
        await self._set_pause(extension, paused=False)

    async def _expire(self, extension: str) -> None:
        await self._sleep(self._max)
        self._timers.pop(extension, None)
        if self._board.get(extension).state == AgentState.WRAP_UP:
            log.info("wrap-up of %s ended after the maximum %.0f s", extension, self._max)
            self._board.fire(extension, "ready")

    async def _set_pause(self, extension: str, *, paused: bool) -> None:
        actions = self._actions()
        if actions is None:
            return
        try:
            await actions.queue_pause(interface=interface_of(extension), paused=paused,
                                      reason=WRAP_UP_REASON if paused else "",
                                      queue=self._queue)
        except AmiError as exc:  # the next sync with the queue shows the truth
            log.warning("QueuePause %s for %s failed: %s", paused, extension, exc)

    def _cancel_timer(self, extension: str) -> None:
        timer = self._timers.pop(extension, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"state": "running", "paused": sorted(self._paused), "max_seconds": self._max}

    async def stop(self) -> None:
        for timer in list(self._timers.values()):
            timer.cancel()
        self._timers.clear()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
