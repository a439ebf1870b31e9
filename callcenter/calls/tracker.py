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
from collections import OrderedDict
from collections.abc import Callable, Mapping

from callcenter.calls import handlers, originate
from callcenter.calls.events import CallEvent, CallStarted
from callcenter.calls.outcome import summarize
from callcenter.calls.state import Call, CallState, Channel

log = logging.getLogger(__name__)

AmiEvent = Mapping[str, str]
Emit = list[CallEvent]

# How many ended linkedids / hung-up uniqueids to remember, so late events are ignored:
# Asterisk does send e.g. a NewConnectedLine for a Local channel after its Hangup.
ENDED_MEMORY = 10_000
GONE_MEMORY = 50_000


class CallTracker:
    """Follows every call seen on AMI and emits domain events."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[CallEvent], None] | None = None,
        callback_context: str = "queue-exit",
        outbound_context: str = "outbound",
    ) -> None:
        self._clock = clock
        self.callback_context = callback_context
        self.outbound_context = outbound_context
        self._on_event = on_event
        self.channels: dict[str, Channel] = {}
        self.by_name: dict[str, str] = {}
        self.calls: dict[str, Call] = {}
        self.bridges: dict[str, set[str]] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._gone: OrderedDict[str, None] = OrderedDict()
        self.errors = 0
        self.events_seen = 0
        self._table = handlers.table(self)

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

    def channel_gone(self, call: Call, channel: Channel, at: float, out: Emit) -> None:
        """A channel of ``call`` hung up (or left it); end the call if it was the last.

        A call met mid-way may have channels the tracker never saw: it ends only once
        its first channel (``Uniqueid == Linkedid``) is gone too, or a reconcile said
        its channel list is complete.
        """
        call.channels.discard(channel.uniqueid)
        if channel.uniqueid == call.linkedid:
            call.originator_gone = True
        if not call.channels and (call.inventory_complete or call.originator_gone):
            self.end_call(call, at, out)

    @property
    def handled_events(self) -> frozenset[str]:
        """Every AMI event name the tracker reads (what the bridge must subscribe to)."""
        return frozenset(self._table)

    @property
    def active_calls(self) -> int:
        return len(self.calls)

    # -- helpers the handlers use -------------------------------------------------------

    def now(self, event: AmiEvent) -> float:
        stamp = event.get("Timestamp")
        if stamp:
            try:
                return float(stamp)
            except ValueError:
                pass
        return self._clock()

    def touch(self, event: AmiEvent, out: Emit) -> tuple[Channel, Call] | None:
        """Find or adopt the event's channel and call; None for an ended or bare event."""
        uniqueid = event.get("Uniqueid")
        linkedid = event.get("Linkedid")
        if not uniqueid or not linkedid or linkedid in self._ended or uniqueid in self._gone:
            return None
        channel = self.channels.get(uniqueid)
        moved = False
        if channel is None:
            name = event.get("Channel", "")
            channel = Channel(
                uniqueid=uniqueid, name=name, linkedid=linkedid, is_local=name.startswith("Local/")
            )
            self.channels[uniqueid] = channel
            self.by_name[name] = uniqueid
        elif channel.linkedid != linkedid:
            self._move(channel, linkedid, event, out)
            moved = True
        number = event.get("CallerIDNum")
        if number is not None:
            channel.number = number
            channel.cid_name = event.get("CallerIDName", "")
        call = self.calls.get(linkedid)
        if call is None:
            call = self._start(channel, linkedid, event, out)
        if uniqueid not in call.channels:
            call.channels.add(uniqueid)
        if moved:
            # An attended transfer brought this party into the call.
            call.add_leg(channel)
        if uniqueid == linkedid:
            call.add_leg(channel)
            if number is not None:
                call.caller = channel.party
                call.caller_name = _clean(channel.cid_name)
                originate.note_presented(call, number)
        return channel, call

    def _start(self, channel: Channel, linkedid: str, event: AmiEvent, out: Emit) -> Call:
        # A Newchannel of the call's first channel is a clean start; anything else means
        # the tracker met this call already under way.
        late = not (event.get("Event") == "Newchannel" and channel.uniqueid == linkedid)
        call = Call(
            linkedid=linkedid,
            started_at=self.now(event),
            joined_late=late,
            inventory_complete=not late,
            caller_uniqueid=linkedid,  # Asterisk gives a call the Uniqueid of its first channel
        )
        if channel.uniqueid == linkedid:
            call.caller = channel.party
            call.caller_name = _clean(channel.cid_name)
        self.calls[linkedid] = call
        out.append(
            CallStarted(
                linkedid=linkedid,
                at=call.started_at,
                caller=call.caller,
                caller_name=call.caller_name,
                channel=channel.name,
                joined_late=late,
            )
        )
        return call

    def _move(self, channel: Channel, linkedid: str, event: AmiEvent, out: Emit) -> None:
        old = self.calls.get(channel.linkedid)
        channel.linkedid = linkedid
        if old is not None:
            self.channel_gone(old, channel, self.now(event), out)

    def drop_channel(self, channel: Channel) -> None:
        self.channels.pop(channel.uniqueid, None)
        self._gone[channel.uniqueid] = None
        if len(self._gone) > GONE_MEMORY:
            self._gone.popitem(last=False)
        if self.by_name.get(channel.name) == channel.uniqueid:
            del self.by_name[channel.name]
        if channel.bridge is not None:
            members = self.bridges.get(channel.bridge)
            if members is not None:
                members.discard(channel.uniqueid)

    def end_call(self, call: Call, at: float, out: Emit) -> None:
        """Emit the call's one ``CallEnded`` and forget it."""
        if call.linkedid in self._ended:
            return
        call.move(CallState.ENDED)
        originate.finish(call)
        self.calls.pop(call.linkedid, None)
        for uniqueid in list(call.channels):
            channel = self.channels.get(uniqueid)
            if channel is not None:
                self.drop_channel(channel)
        self._ended[call.linkedid] = None
        if len(self._ended) > ENDED_MEMORY:
            self._ended.popitem(last=False)
        out.append(summarize(call, ended_at=at))

    def channel_by_name(self, name: str) -> Channel | None:
        uniqueid = self.by_name.get(name)
        return self.channels.get(uniqueid) if uniqueid else None


def _clean(value: str) -> str:
    return "" if value == "<unknown>" else value
