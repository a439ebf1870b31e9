"""Bus events to JSON and back: the class name is the kind, pydantic does the fields
(enums, tuples, the nested ``Transfer``s)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from callcenter.calls import events as call_events
from callcenter.cluster.events import PresenceChanged, QueueSnapshot

KINDS: dict[str, type] = {
    cls.__name__: cls
    for cls in (call_events.CallStarted, call_events.IvrChoiceMade, call_events.CallQueued,
                call_events.AgentRinging, call_events.AgentNoAnswer, call_events.CallAnswered,
                call_events.CallTransferred, call_events.CallAbandoned,
                call_events.CallbackRequested, call_events.CallEnded, QueueSnapshot,
                PresenceChanged)
}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {kind: TypeAdapter(cls) for kind, cls in KINDS.items()}


class UnknownKind(ValueError):
    """A kind this version does not know (a newer instance wrote it): skipped."""


def encode(event: Any) -> tuple[str, dict[str, Any]]:
    kind = type(event).__name__
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        raise UnknownKind(kind)
    return kind, adapter.dump_python(event, mode="json")


def decode(kind: str, payload: dict[str, Any]) -> Any:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        raise UnknownKind(kind)
    return adapter.validate_python(payload)


def agent_of(event: Any) -> str | None:
    """The agent an event is for (pops, no-answers, presence), for the resume query."""
    return getattr(event, "agent", None) or getattr(event, "extension", None)
