"""The legs of a call: finding the dialled channel, ringing it, answering it.

Shared by the channel handlers (``DialBegin``/``DialEnd``/``BridgeEnter``) and the queue
handlers (``AgentCalled``/``AgentConnect``), which report the same moments twice on a
queue call; both paths go through here so each moment is emitted once per leg.
"""

from __future__ import annotations

from collections.abc import Mapping

from callcenter.calls import transfers
from callcenter.calls.events import AgentRinging, CallAnswered, CallEvent
from callcenter.calls.registry import CallRegistry
from callcenter.calls.state import CallState, Channel, LiveCall, interface_of

Event = Mapping[str, str]
Out = list[CallEvent]


def dest_channel(tracker: CallRegistry, event: Event, call: LiveCall) -> Channel | None:
    """The DestChannel of a Dial* event, adopted into ``call`` if not yet known."""
    uniqueid = event.get("DestUniqueid", "")
    name = event.get("DestChannel", "")
    if not uniqueid and not name:
        return None
    channel = tracker.channels.get(uniqueid) if uniqueid else tracker.channel_by_name(name)
    if channel is None:
        channel = Channel(
            uniqueid=uniqueid or name,
            name=name,
            linkedid=event.get("DestLinkedid") or call.linkedid,
            number=event.get("DestCallerIDNum", ""),
            cid_name=event.get("DestCallerIDName", ""),
            is_local=name.startswith("Local/"),
        )
        tracker.channels[channel.uniqueid] = channel
        tracker.by_name[name] = channel.uniqueid
        if channel.linkedid == call.linkedid:
            call.channels.add(channel.uniqueid)
    return channel


def ring(tracker: CallRegistry, call: LiveCall, channel: Channel, at: float, out: Out) -> None:
    """A person's phone rings with this call: the screen-pop moment, once per leg."""
    if channel.uniqueid in call.rung:
        return
    call.rung.add(channel.uniqueid)
    party = channel.party
    call.add_leg(channel)
    if call.first_dialed is None:
        call.first_dialed = party
    if call.state is not CallState.TALKING or call.transfers:
        call.move(CallState.RINGING)
    out.append(
        AgentRinging(
            linkedid=call.linkedid,
            at=at,
            agent=party,
            interface=interface_of(channel.name),
            caller=call.caller,
            caller_name=call.caller_name,
            queue=call.queue,
            ivr_path=tuple(call.ivr_path),
            request_code=call.request_code,
        )
    )


def answer(call: LiveCall, channel: Channel, at: float, out: Out) -> None:
    """A person picked up. ``answered_by`` keeps the first; transfer targets also emit."""
    party = channel.party
    call.pending.pop(channel.uniqueid, None)
    channel.answered = True
    if party in call.answered_parties:
        return
    call.answered_parties.add(party)
    call.add_leg(channel)
    call.move(CallState.TALKING)
    transfers.settle(call, "ANSWER", party)
    if call.answered_by is None:
        call.answered_by = party
        call.answered_at = at
    waited_from = call.queue_joined_at if call.queue_joined_at is not None else call.started_at
    out.append(
        CallAnswered(
            linkedid=call.linkedid,
            at=at,
            agent=party,
            interface=interface_of(channel.name),
            hold_seconds=max(at - waited_from, 0.0),
            queue=call.queue,
        )
    )
