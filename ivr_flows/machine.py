"""A tiny runner for the flows' explicit state machines.

A flow names its states in a :class:`~enum.StrEnum` and maps each state to a
*step*: an ``async`` method with no arguments that does that state's talking
and returns the next state. The runner walks the map from ``start`` until a
final state, and keeps the trace of visited states for logs and tests::

    steps = {State.MENU: self.menu, State.AGENT: self.agent}
    trace = await run_machine(steps=steps, start=State.MENU, final={State.DONE}, ...)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from enum import StrEnum
from typing import TypeVar

__all__ = ["FlowLoopError", "Step", "run_machine"]

logger = logging.getLogger(__name__)

Step = Callable[[], Awaitable[StrEnum]]
S = TypeVar("S", bound=StrEnum)


class FlowLoopError(RuntimeError):
    """A flow went through more states than any real call can (a bug, not a caller)."""


async def run_machine(
    *,
    steps: Mapping[S, Callable[[], Awaitable[S]]],
    start: S,
    final: Collection[S],
    max_steps: int,
    call_id: str,
) -> list[S]:
    """Run steps from ``start`` until a state in ``final``; return the states visited.

    Exceptions of a step (above all ``ChannelHangup``) end the run and propagate.
    """
    trace = [start]
    state = start
    for _ in range(max_steps):
        if state in final:
            return trace
        step = steps.get(state)
        if step is None:
            raise KeyError(f"no step for state {state!r}")
        state = await step()
        logger.debug("call %s: %s -> %s", call_id, trace[-1], state)
        trace.append(state)
    raise FlowLoopError(f"call {call_id}: more than {max_steps} steps: {trace[-10:]}")
