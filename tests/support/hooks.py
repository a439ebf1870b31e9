"""Test-only hooks, mounted only by tests (``create_app(..., extra_routers=[router])``,
or ``tests/support/serve_hooked.py`` for a served app) and only answering when
``settings.environment == "test"`` (404 otherwise, hidden from the OpenAPI document):
publish a tracker event on the app's notifier, or feed the queue state an AMI event, as
the AMI bridge would. Browser tests and the screen-pop benchmark drive the panels
through these when no PBX is running."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from callcenter.calls import events as call_events
from callcenter.calls.queue_state import QueueState
from callcenter.compose import Services
from callcenter.deps import get_services

router = APIRouter(include_in_schema=False)

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (
        call_events.CallStarted, call_events.IvrChoiceMade, call_events.CallQueued,
        call_events.AgentRinging, call_events.AgentNoAnswer, call_events.CallAnswered,
        call_events.CallAbandoned, call_events.CallbackRequested, call_events.CallEnded,
    )
}
_TUPLES = {"ivr_path", "parties", "transfers"}


def _guard(request: Request) -> Services:
    services = get_services(request)
    if services.settings.environment != "test":
        raise HTTPException(404, "Not Found")
    return services


def _publish(services: Services) -> Any:
    """Where the AMI bridge's events go: the event bus of several instances (PostgreSQL
    serve), else the notifier."""
    return services.bus.publish if services.bus is not None else services.notifier.publish


def build_event(name: str, body: dict[str, Any]) -> Any:
    """The domain event ``name`` from JSON (``at`` defaults to now)."""
    cls = EVENT_TYPES.get(name)
    if cls is None:
        raise HTTPException(422, f"unknown event {name}")
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in body.items() if k in fields}
    values.setdefault("at", time.time())
    for key in _TUPLES & values.keys():
        values[key] = tuple(values[key])
    if "outcome" in values:
        values["outcome"] = call_events.Outcome(values["outcome"])
    try:
        return cls(**values)
    except TypeError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.post("/test/events/{name}")
async def publish_event(name: str, request: Request) -> dict[str, Any]:
    services = _guard(request)
    event = build_event(name, await request.json())
    _publish(services)(event)
    return {"published": name, "at": event.at}


@router.post("/test/events")
async def publish_events(request: Request) -> dict[str, Any]:
    """Publish a batch in one go, as the bridge does when one AMI read holds many events;
    each event's ``at`` is the instant it is published."""
    services = _guard(request)
    batch = await request.json()
    for item in batch:
        body = {**item.get("body", {}), "at": None}
        del body["at"]
        _publish(services)(build_event(str(item.get("name")), body))
    return {"published": len(batch)}


@router.post("/test/queue-events")
async def feed_queue(request: Request) -> dict[str, Any]:
    services = _guard(request)
    if services.queue_state is None:
        # No AMI bridge in this app: stand in for its queue state, wired as compose would.
        services.queue_state = services.supervisor_hub.queue_state = QueueState()
    for event in await request.json():
        services.queue_state.feed({k: str(v) for k, v in event.items()})
    return {"queues": list(services.queue_state.queues)}
