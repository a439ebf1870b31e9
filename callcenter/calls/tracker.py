"""The call tracker: a pure state machine over AMI events, keyed by ``Linkedid``.

Feed it AMI event dicts (``str -> str``) in the order Asterisk sent them; it returns (and
hands to ``on_event``, if given) the domain events of ``callcenter.calls.events``. It does
no I/O. What it relies on, learnt from real traffic (see ../shared/test-data/cacofonisk):

- Every channel event carries ``Uniqueid`` and ``Linkedid``; the call is the Linkedid,
  its first channel (``Uniqueid == Linkedid``) is the caller.
- ``Local/...;1`` and ``;2`` channels are plumbing: they never count as a party. The real
  callee is the non-Local ``DestChannel`` of a ``DialBegin``/``DialEnd``.
- A channel's Linkedid can change mid-call (an attended transfer moves the target into
  the transferee's call), so a channel is moved between calls when that happens.
- A call ends when its last known channel hangs up: exactly one ``CallEnded``.
- The stream can start mid-call: an unknown channel is adopted on first sight and its
  call marked ``joined_late``; events of calls already ended are ignored.

Any exception inside one event's handling is caught and counted (``errors``): a strange
event must never stop the bridge.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from callcenter.calls import handlers
from callcenter.calls.events import CallEvent
from callcenter.calls.queue_handlers import FRAME_FILTERS
from callcenter.calls.registry import AmiEvent, CallRegistry, Emit

log = logging.getLogger(__name__)


class CallTracker(CallRegistry):
    """Follows every call seen on AMI and emits domain events: the registry of
    ``registry.py`` driven by the handler table of ``handlers.py``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[CallEvent], None] | None = None,
        callback_context: str = "queue-exit",
        outbound_context: str = "outbound",
    ) -> None:
        super().__init__(
            clock=clock, callback_context=callback_context, outbound_context=outbound_context
        )
        self._on_event = on_event
        self.errors = 0
        self.events_seen = 0
        self._table = handlers.table(self)

    @property
    def events(self) -> frozenset[str]:
        """The AMI event names the tracker handles (what ``ami/subscriptions.py`` routes
        to it)."""
        return frozenset(self._table)

    @property
    def frame_filters(self) -> Mapping[str, Callable[[str], bool]]:
        """Per event name, a test on the raw frame: False means the handler would ignore
        the event, so the AMI layer need not parse it (``queue_handlers.FRAME_FILTERS``)."""
        return {name: test for name, test in FRAME_FILTERS.items() if name in self._table}

    # -- entry points -----------------------------------------------------------------

    def feed(self, event: AmiEvent) -> list[CallEvent]:
        """Process one AMI event; return the domain events it caused (often none)."""
        self.events_seen += 1
        out: Emit = []
        handler = self._table.get(event.get("Event", ""))
        if handler is not None:
            try:
                handler(event, out)
            except Exception:
                self.errors += 1
                log.exception("call tracker failed on %s", event.get("Event"))
        if out and self._on_event is not None:
            for domain_event in out:
                self._on_event(domain_event)
        return out

    def feed_all(self, events: list[dict[str, str]]) -> list[CallEvent]:
        out: list[CallEvent] = []
        for event in events:
            out.extend(self.feed(event))
        return out

    def reconcile(
        self, channels: list[dict[str, str]], *, at: float | None = None
    ) -> list[CallEvent]:
        """After a (re)connect, align with the PBX's own list of live channels.

        ``channels`` are the ``CoreShowChannel`` events answering ``CoreShowChannels``.
        Live channels are adopted (a call met mid-way then knows all its channels and
        can end normally); calls none of whose channels is live any more are ended
        (their hangups happened while AMI was down).
        """
        when = self._clock() if at is None else at
        out: Emit = []
        live: set[str] = set()
        for event in channels:
            if event.get("Event", "CoreShowChannel") != "CoreShowChannel":
                continue
            found = self.touch(event, out)
            if found is None:
                continue
            channel, _ = found
            live.add(channel.uniqueid)
            bridge_id = event.get("BridgeId")
            if bridge_id:
                self.bridges.setdefault(bridge_id, set()).add(channel.uniqueid)
                channel.bridge = bridge_id
        for call in list(self.calls.values()):
            for uniqueid in [u for u in call.channels if u not in live]:
                call.channels.discard(uniqueid)
                stale = self.channels.get(uniqueid)
                if stale is not None:
                    self.drop_channel(stale)
            call.inventory_complete = True
            if not call.channels:
                call.end_seen = False
                self.end_call(call, when, out)
        if out and self._on_event is not None:
            for domain_event in out:
                self._on_event(domain_event)
        return out
