"""Every AMI event the system depends on, in one table: event name -> handlers.

The tracker follows calls, the queue state follows queues and agents. One catch-all
panoramisk callback routes each event through this table (a dict lookup). The table is
built from the handlers themselves (``CallTracker.handled_events``,
``QueueState.handled_events``), so the live bridge feeds the tracker exactly the events a
replay of a recording does: an event gets a handler and a subscription in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callcenter.calls.queue_state import QueueState
from callcenter.calls.tracker import CallTracker

EventHandler = Callable[[Mapping[str, str]], Any]

# What the queue state reads only from the answers of QueueStatus/CoreShowChannels at a
# resync (bridge.py feeds them itself); they are never sent as unsolicited events.
RESYNC_ANSWERS = frozenset({"QueueParams", "QueueMember", "QueueEntry", "CoreShowChannel"})


def subscriptions(
    *, tracker: CallTracker, queue_state: QueueState
) -> dict[str, list[EventHandler]]:
    """The table: each live event name -> the feeds that read it (tracker first)."""
    table: dict[str, list[EventHandler]] = {}
    for name in sorted(tracker.handled_events):
        table.setdefault(name, []).append(tracker.feed)
    for name in sorted(queue_state.handled_events - RESYNC_ANSWERS):
        table.setdefault(name, []).append(queue_state.feed)
    return table


def message_to_dict(message: Any) -> dict[str, str]:
    """A panoramisk Message as a plain ``str -> str`` dict (what the tracker eats)."""
    store = getattr(message, "_store", None)
    pairs = store.values() if store is not None else message.items()
    return {k: v if isinstance(v, str) else "\n".join(v) for k, v in pairs}


class EventRouter:
    """The one panoramisk callback: converts the message and runs the table's handlers."""

    def __init__(
        self,
        *,
        table: Mapping[str, list[EventHandler]],
        on_raw: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self._table = table
        self.on_raw = on_raw

    def attach(self, manager: Any) -> None:
        manager.register_event("*", self)

    def __call__(self, manager: Any, message: Any) -> None:
        name = message.get("Event", "")
        handlers = self._table.get(name)
        if handlers is None and self.on_raw is None:
            return
        event = message_to_dict(message)
        if self.on_raw is not None:
            self.on_raw(event)
        for handler in handlers or ():
            handler(event)
