"""Domain events out: services publish, websockets/metrics/webhooks subscribe.

Services never touch a websocket; they hand an event to the notifier. Async
subscribers run as tasks the notifier keeps a reference to, and their errors are logged,
never raised into the publisher.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[Any], Awaitable[None] | None]


class Notifier:
    """Routes events by their class to the subscribers of that class (or of ``object``)."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Subscriber]] = defaultdict(list)
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: type, subscriber: Subscriber) -> Callable[[], None]:
        """Register; returns a function that unsubscribes."""
        self._subscribers[event_type].append(subscriber)
        return lambda: self._subscribers[event_type].remove(subscriber)

    def publish(self, event: Any) -> None:
        for event_type in type(event).__mro__:
            for subscriber in list(self._subscribers.get(event_type, ())):
                self._deliver(subscriber, event)

    def _deliver(self, subscriber: Subscriber, event: Any) -> None:
        try:
            result = subscriber(event)
        except Exception:
            log.exception("subscriber %r failed on %s", subscriber, type(event).__name__)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(self._guard(result, subscriber, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guard(awaitable: Awaitable[None], subscriber: Subscriber, event: Any) -> None:
        try:
            await awaitable
        except Exception:
            log.exception("subscriber %r failed on %s", subscriber, type(event).__name__)

    async def drain(self) -> None:
        """Wait for the async deliveries in flight (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
