"""Every AMI event the system depends on, in one table: event name -> handlers.

The tracker follows calls, the queue state follows queues and agents. One catch-all
panoramisk callback routes each event through this table (a dict lookup), so adding an
event here is the only place to touch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callcenter.calls.queue_state import QueueState
from callcenter.calls.tracker import CallTracker

EventHandler = Callable[[Mapping[str, str]], Any]

CALL_EVENTS = (
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "NewConnectedLine",
    "NewAccountCode",
    "Hangup",
    "DialBegin",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "BridgeDestroy",
    "BlindTransfer",
    "AttendedTransfer",
    "Rename",
    "Newexten",
    "VarSet",
    "UserEvent",
    "AgentCalled",
    "AgentRingNoAnswer",
)
QUEUE_ONLY_EVENTS = (
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberStatus",
    "DeviceStateChange",
)
SHARED_EVENTS = (
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "AgentConnect",
    "AgentComplete",
)


def subscriptions(
    *, tracker: CallTracker, queue_state: QueueState
) -> dict[str, list[EventHandler]]:
    """The table. Order within a list matters only for reading."""
    table: dict[str, list[EventHandler]] = {name: [tracker.feed] for name in CALL_EVENTS}
    table.update({name: [queue_state.feed] for name in QUEUE_ONLY_EVENTS})
    table.update({name: [tracker.feed, queue_state.feed] for name in SHARED_EVENTS})
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
