"""Every AMI event the system depends on, in one table: event name -> handlers.

The tracker follows calls, the queue state follows queues and agents; the table is made
from their own handler tables, so the names are written once. One catch-all panoramisk
callback routes each event through this table (a dict lookup).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callcenter.calls.queue_state import QueueState
from callcenter.calls.tracker import CallTracker

EventHandler = Callable[[Mapping[str, str]], Any]

def subscriptions(
    *, tracker: CallTracker, queue_state: QueueState
) -> dict[str, list[EventHandler]]:
    """The table, from the handlers' own tables (``CallTracker.events``,
    ``QueueState.live_events``): an event either one handles is routed to it, so a
    handler added there is subscribed here. Order within a list matters only for
    reading: the tracker first, then the queue state."""
    table: dict[str, list[EventHandler]] = {}
    for name in sorted(tracker.events | queue_state.live_events):
        table[name] = [handler for handler, names in ((tracker.feed, tracker.events),
                                                     (queue_state.feed, queue_state.live_events))
                       if name in names]
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
        frame_filters: Mapping[str, Callable[[str], bool]] | None = None,
    ) -> None:
        self._table = table
        self.on_raw = on_raw
        self._frame_filters = dict(frame_filters or {})

    def attach(self, manager: Any) -> None:
        manager.register_event("*", self)

    def wants(self, name: str, frame: str) -> bool:
        """Whether this event (its name, its raw ``frame``) goes anywhere: the manager
        parses no further one that does not (``BridgeManager.wants_event``)."""
        if self.on_raw is not None:
            return True
        if name not in self._table:
            return False
        test = self._frame_filters.get(name)
        return test is None or test(frame)

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
