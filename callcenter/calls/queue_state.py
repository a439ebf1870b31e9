"""Queue and agent state for the agent and supervisor pages (pure, no I/O).

Fed the live queue events, and rebuilt from scratch by ``resync(events)`` after every
(re)connect with the answers to ``QueueStatus`` (QueueParams, QueueMember, QueueEntry)
and ``CoreShowChannels`` (CoreShowChannel): what happened while AMI was away is then
read from Asterisk rather than guessed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class QueueView(Protocol):
    """What readers of the live queue picture rely on (``QueueState`` is the real one;
    the IVR, the follow-up runner and the supervisor hub take this)."""

    def snapshot(self) -> dict[str, Any]: ...


# app_queue's member Status numbers (AST_DEVICE_*).
DEVICE_STATES = {
    "0": "unknown",
    "1": "not_inuse",
    "2": "inuse",
    "3": "busy",
    "4": "invalid",
    "5": "unavailable",
    "6": "ringing",
    "7": "ringinuse",
    "8": "onhold",
}
# DeviceStateChange's State words -> the same names.
_DEVICE_WORDS = {
    "UNKNOWN": "unknown",
    "NOT_INUSE": "not_inuse",
    "INUSE": "inuse",
    "BUSY": "busy",
    "INVALID": "invalid",
    "UNAVAILABLE": "unavailable",
    "RINGING": "ringing",
    "RINGINUSE": "ringinuse",
    "ONHOLD": "onhold",
}
_IN_CALL_STATES = frozenset({"inuse", "busy", "ringinuse", "onhold"})
# Answers to QueueStatus and CoreShowChannels: read by ``resync``, never subscribed to.
RESYNC_ONLY_EVENTS = frozenset({"QueueParams", "QueueMember", "QueueEntry", "CoreShowChannel"})

Event = Mapping[str, str]


@dataclass(slots=True)
class Member:
    interface: str
    name: str
    state_interface: str
    device_state: str = "unknown"
    paused: bool = False
    paused_reason: str = ""
    in_call: bool = False
    calls_taken: int = 0


@dataclass(slots=True)
class Waiting:
    uniqueid: str
    caller: str
    caller_name: str
    position: int
    joined_at: float


@dataclass(slots=True)
class Queue:
    name: str
    members: dict[str, Member] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    completed: int = 0
    abandoned: int = 0


class QueueState:
    """Members, device states, pauses and waiting callers of every queue."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.queues: dict[str, Queue] = {}
        self.errors = 0
        self._table: dict[str, Callable[[Event], None]] = {
            "QueueParams": self._on_params,
            "QueueMember": self._on_member,
            "QueueMemberAdded": self._on_member,
            "QueueMemberStatus": self._on_member,
            "QueueMemberPause": self._on_pause,
            "QueueMemberRemoved": self._on_removed,
            "QueueEntry": self._on_entry,
            "QueueCallerJoin": self._on_entry,
            "QueueCallerLeave": self._on_leave,
            "QueueCallerAbandon": self._on_leave,
            "DeviceStateChange": self._on_device,
            "CoreShowChannel": self._on_channel,
            "AgentConnect": self._on_agent_connect,
            "AgentComplete": self._on_agent_complete,
        }

    @property
    def live_events(self) -> frozenset[str]:
        """The AMI event names to route here as they happen (``ami/subscriptions.py``)."""
        return frozenset(self._table) - RESYNC_ONLY_EVENTS

    def feed(self, event: Event) -> None:
        handler = self._table.get(event.get("Event", ""))
        if handler is None:
            return
        try:
            handler(event)
        except Exception:
            self.errors += 1

    def resync(self, events: Iterable[Event]) -> None:
        """Forget everything and rebuild from QueueStatus + CoreShowChannels answers."""
        self.queues = {}
        for event in events:
            self.feed(event)

    def snapshot(self, *, now: float | None = None) -> dict[str, Any]:
        """A JSON-ready picture for the panels; waits in whole seconds."""
        at = self._clock() if now is None else now
        return {
            name: {
                "members": [
                    {
                        "interface": m.interface,
                        "name": m.name,
                        "device_state": m.device_state,
                        "paused": m.paused,
                        "paused_reason": m.paused_reason,
                        "in_call": m.in_call,
                        "calls_taken": m.calls_taken,
                    }
                    for m in queue.members.values()
                ],
                "waiting": [
                    {
                        "uniqueid": w.uniqueid,
                        "caller": w.caller,
                        "caller_name": w.caller_name,
                        "position": w.position,
                        "wait_seconds": max(int(at - w.joined_at), 0),
                    }
                    for w in sorted(queue.waiting.values(), key=lambda w: w.position)
                ],
                "completed": queue.completed,
                "abandoned": queue.abandoned,
            }
            for name, queue in self.queues.items()
        }

    # -- handlers -----------------------------------------------------------------------

    def _queue(self, event: Event) -> Queue:
        name = event.get("Queue", "")
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name=name)
        return queue

    def _on_params(self, event: Event) -> None:
        queue = self._queue(event)
        queue.completed = int(event.get("Completed") or 0)
        queue.abandoned = int(event.get("Abandoned") or 0)

    def _on_member(self, event: Event) -> None:
        queue = self._queue(event)
        # QueueMember (the QueueStatus answer) says "Location"; the live events "Interface".
        interface = event.get("Interface") or event.get("Location", "")
        member = queue.members.get(interface)
        if member is None:
            member = queue.members[interface] = Member(
                interface=interface,
                name=event.get("MemberName") or event.get("Name") or interface,
                state_interface=event.get("StateInterface") or interface,
            )
        status = event.get("Status")
        if status is not None:
            member.device_state = DEVICE_STATES.get(status, "unknown")
            member.in_call = member.device_state in _IN_CALL_STATES or event.get("InCall") == "1"
        if "Paused" in event:
            member.paused = event["Paused"] == "1"
            member.paused_reason = event.get("PausedReason", "") if member.paused else ""
        if event.get("CallsTaken"):
            member.calls_taken = int(event["CallsTaken"])

    def _on_pause(self, event: Event) -> None:
        member = self._queue(event).members.get(event.get("Interface", ""))
        if member is None:
            self._on_member(event)
            return
        member.paused = event.get("Paused") == "1"
        reason = event.get("PausedReason") or event.get("Reason", "")
        member.paused_reason = reason if member.paused else ""

    def _on_removed(self, event: Event) -> None:
        self._queue(event).members.pop(event.get("Interface", ""), None)

    def _on_entry(self, event: Event) -> None:
        queue = self._queue(event)
        uniqueid = event.get("Uniqueid", "")
        now = self._clock()
        # QueueEntry (resync) gives the seconds already waited; QueueCallerJoin is "now".
        joined = now - float(event.get("Wait") or 0) if event.get("Event") == "QueueEntry" else now
        stamp = event.get("Timestamp")
        if stamp and event.get("Event") == "QueueCallerJoin":
            joined = float(stamp)
        queue.waiting[uniqueid] = Waiting(
            uniqueid=uniqueid,
            caller=event.get("CallerIDNum", ""),
            caller_name=event.get("CallerIDName", ""),
            position=int(event.get("Position") or 0),
            joined_at=joined,
        )

    def _on_leave(self, event: Event) -> None:
        queue = self._queue(event)
        queue.waiting.pop(event.get("Uniqueid", ""), None)
        if event.get("Event") == "QueueCallerAbandon":
            queue.abandoned += 1
        # Asterisk renumbers the callers behind; keep positions dense in join order.
        for number, waiting in enumerate(
            sorted(queue.waiting.values(), key=lambda w: w.position), start=1
        ):
            waiting.position = number

    def _members_of(self, device: str) -> list[Member]:
        return [
            m
            for q in self.queues.values()
            for m in q.members.values()
            if device in (m.state_interface, m.interface)
        ]

    def _on_device(self, event: Event) -> None:
        state = _DEVICE_WORDS.get(event.get("State", ""), "unknown")
        for member in self._members_of(event.get("Device", "")):
            member.device_state = state
            member.in_call = state in _IN_CALL_STATES

    def _on_channel(self, event: Event) -> None:
        # A live channel PJSIP/2101-0000001a means member PJSIP/2101 is on a call.
        device = event.get("Channel", "").rpartition("-")[0]
        for member in self._members_of(device):
            member.in_call = True

    def _on_agent_connect(self, event: Event) -> None:
        member = self._queue(event).members.get(event.get("Interface", ""))
        if member is not None:
            member.in_call = True

    def _on_agent_complete(self, event: Event) -> None:
        queue = self._queue(event)
        queue.completed += 1
        member = queue.members.get(event.get("Interface", ""))
        if member is not None:
            member.in_call = False
            member.calls_taken += 1
