"""Events that only exist between instances (the call events are ``calls.events``)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# The bus id of the event being delivered: the notifier's subscriber tasks copy the
# context at creation, so a hub can stamp a pop with the id a reconnecting panel sends
# back (``?since=``). None on the in-process path (SQLite).
current_event_id: ContextVar[int | None] = ContextVar("current_event_id", default=None)


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """The AMI holder's view of its PBX's queues (``QueueState.snapshot()``), sent when
    it changes: instances without that PBX's AMI show the same live picture."""

    pbx: str
    at: float
    queues: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PresenceChanged:
    """An agent's presence as one instance changed it (a break, wrap-up ended): every
    other instance's board takes it as it is."""

    extension: str
    at: float
    state: str
    since: float
    reason: str = ""
    caller: str = ""
    linkedid: str = ""
    origin: str = ""
