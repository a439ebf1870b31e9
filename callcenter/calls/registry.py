"""The call tracker's records, apart from the handlers that update them.

A ``CallRegistry`` holds the channels (by ``Uniqueid`` and by name), the live calls (by
``Linkedid``), the bridges' members, and the ids of calls ended and channels gone lately
(so late events are ignored). The handlers of ``handlers.py`` and ``queue_handlers.py``
take it and change it only through these methods and fields; it imports none of them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from callcenter.calls.events import CallEvent, CallStarted
from callcenter.calls.outcome import summarize
from callcenter.calls.state import CallState, Channel, LiveCall

AmiEvent = Mapping[str, str]
Emit = list[CallEvent]

# How many ended linkedids / hung-up uniqueids to remember, so late events are ignored:
# Asterisk does send e.g. a NewConnectedLine for a Local channel after its Hangup.
ENDED_MEMORY = 10_000
GONE_MEMORY = 50_000


class CallRegistry:
    """Channels, calls and bridges as the AMI events so far describe them (no I/O)."""

    def __init__(self, *, clock: Callable[[], float] = time.time,
                 callback_context: str = "queue-exit",
                 outbound_context: str = "outbound") -> None:
        self._clock = clock
        self.callback_context = callback_context
        self.outbound_context = outbound_context  # where the product's Originates run
        self.channels: dict[str, Channel] = {}
        self.by_name: dict[str, str] = {}
        self.calls: dict[str, LiveCall] = {}
        self.bridges: dict[str, set[str]] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._gone: OrderedDict[str, None] = OrderedDict()

    def channel_gone(self, call: LiveCall, channel: Channel, at: float, out: Emit) -> None:
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

    def touch(self, event: AmiEvent, out: Emit) -> tuple[Channel, LiveCall] | None:
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
                if call.originated and _clean(number):
                    call.presented = number  # what the Originate shows the callee
        return channel, call

    def _start(self, channel: Channel, linkedid: str, event: AmiEvent, out: Emit) -> LiveCall:
        # A Newchannel of the call's first channel is a clean start; anything else means
        # the tracker met this call already under way.
        late = not (event.get("Event") == "Newchannel" and channel.uniqueid == linkedid)
        call = LiveCall(
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

    def end_call(self, call: LiveCall, at: float, out: Emit) -> None:
        """Emit the call's one ``CallEnded`` and forget it."""
        if call.linkedid in self._ended:
            return
        call.move(CallState.ENDED)
        call.close_originated()
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
