"""Calls still in the IVR (started, not yet queued, ringing or ended) - pure state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callcenter.calls.events import (
    AgentRinging,
    CallAbandoned,
    CallAnswered,
    CallbackRequested,
    CallEnded,
    CallQueued,
    CallStarted,
    IvrChoiceMade,
)


@dataclass
class IvrCall:
    linkedid: str
    caller: str
    started_at: float
    path: list[str] = field(default_factory=list)


class LiveCalls:
    """Which calls are in the IVR now; fed every call event by the supervisor hub."""

    def __init__(self) -> None:
        self.in_ivr: dict[str, IvrCall] = {}

    def feed(self, event: Any) -> bool:
        """Apply one event; ``True`` when the picture changed."""
        if isinstance(event, CallStarted):
            self.in_ivr[event.linkedid] = IvrCall(event.linkedid, event.caller, event.at)
            return True
        if isinstance(event, IvrChoiceMade):
            call = self.in_ivr.get(event.linkedid)
            if call is not None:
                call.path = list(event.ivr_path)
            return call is not None
        if isinstance(event, CallQueued | AgentRinging | CallAnswered | CallEnded
                      | CallAbandoned | CallbackRequested):
            return self.in_ivr.pop(event.linkedid, None) is not None
        return False

    def snapshot(self, *, now: float) -> list[dict[str, Any]]:
        return [
            {"linkedid": c.linkedid, "caller": c.caller, "path": c.path,
             "seconds": max(int(now - c.started_at), 0)}
            for c in sorted(self.in_ivr.values(), key=lambda c: c.started_at)
        ]
