"""The tracker's per-event handlers for channels, dials, bridges, hangups and transfers.

Each handler is ``handler(tracker, event, out)``: it reads one AMI event, updates the
tracker's records and appends domain events to ``out``. ``table()`` lists every AMI event
the tracker understands; queue and IVR events live in ``calls/queue_handlers.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from callcenter.calls import queue_handlers
from callcenter.calls.events import (
    AgentNoAnswer,
    CallEvent,
    CallTransferred,
    Transfer,
    TransferKind,
)
from callcenter.calls.legs import answer, dest_channel, ring
from callcenter.calls.registry import CallRegistry
from callcenter.calls.state import CallState, interface_of, party_of

Event = Mapping[str, str]
Out = list[CallEvent]
Handler = Callable[[Event, Out], None]

# Channel events that carry nothing but the channel's own state: adopting the channel
# (and its call) and refreshing its caller id is all they need.
CHANNEL_ONLY = (
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "NewConnectedLine",
    "NewAccountCode",
    "DialState",
    "HangupRequest",
    "SoftHangupRequest",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
)


def table(tracker: CallRegistry) -> dict[str, Handler]:
    """Event name -> bound handler, built once per tracker."""
    funcs: dict[str, Callable[[CallRegistry, Event, Out], None]] = {
        name: on_channel for name in CHANNEL_ONLY
    }
    funcs.update(
        {
            "Hangup": on_hangup,
            "DialBegin": on_dial_begin,
            "DialEnd": on_dial_end,
            "BridgeEnter": on_bridge_enter,
            "BridgeLeave": on_bridge_leave,
            "BridgeDestroy": on_bridge_destroy,
            "BlindTransfer": on_blind_transfer,
            "AttendedTransfer": on_attended_transfer,
            "Rename": on_rename,
        }
    )
    funcs.update(queue_handlers.HANDLERS)
    return {name: partial(func, tracker) for name, func in funcs.items()}


def on_channel(tracker: CallRegistry, event: Event, out: Out) -> None:
    tracker.touch(event, out)


def on_hangup(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    channel, call = found
    if not channel.is_local and call.first_real_hangup is None:
        call.first_real_hangup = channel.party
    tracker.drop_channel(channel)
    tracker.channel_gone(call, channel, tracker.now(event), out)


def on_dial_begin(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    dest = dest_channel(tracker, event, call)
    if dest is not None and not dest.is_local:
        ring(tracker, call, dest, tracker.now(event), out)


def on_dial_end(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    status = event.get("DialStatus", "")
    dest = dest_channel(tracker, event, call)
    at = tracker.now(event)
    if status == "ANSWER":
        if dest is not None and not dest.is_local:
            answer(call, dest, at, out)
        return
    if status:
        call.dial_statuses.append(status)
    if dest is not None and not dest.is_local and status not in ("CANCEL", ""):
        out.append(
            AgentNoAnswer(
                linkedid=call.linkedid,
                at=at,
                agent=dest.party,
                interface=interface_of(dest.name),
                status=status,
            )
        )
    if call.state is CallState.RINGING and call.queue is not None:
        call.move(CallState.QUEUED)


def on_bridge_enter(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    bridge_id = event.get("BridgeUniqueid", "")
    if found is None or not bridge_id:
        return
    channel, call = found
    members = tracker.bridges.setdefault(bridge_id, set())
    members.add(channel.uniqueid)
    channel.bridge = bridge_id
    if channel.is_local or call.answered_by is not None:
        return
    # Fallback for streams that start mid-call (DialEnd missed): two real parties in one
    # bridge are talking; the one that is not the caller answered.
    for other_id in members:
        other = tracker.channels.get(other_id)
        if other is None or other.is_local or other is channel:
            continue
        callee = other if channel.uniqueid == call.caller_uniqueid else channel
        answer(call, callee, tracker.now(event), out)
        return


def on_bridge_leave(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    channel, call = found
    members = tracker.bridges.get(event.get("BridgeUniqueid", ""))
    channel.bridge = None
    if members is None:
        return
    members.discard(channel.uniqueid)
    if channel.is_local or call.answered_by is None:
        return
    # The first real party to leave a bridge that still holds another real party ended
    # that conversation. Local optimization moves also leave bridges, but they leave only
    # Local channels behind, so they do not count.
    for other_id in members:
        other = tracker.channels.get(other_id)
        if other is not None and not other.is_local:
            call.hangup_by = channel.party
            return


def on_bridge_destroy(tracker: CallRegistry, event: Event, out: Out) -> None:
    tracker.bridges.pop(event.get("BridgeUniqueid", ""), None)


def _party(tracker: CallRegistry, event: Event, prefix: str) -> str:
    channel = tracker.channels.get(event.get(f"{prefix}Uniqueid", ""))
    if channel is not None:
        return channel.party
    return party_of(event.get(f"{prefix}Channel", ""), event.get(f"{prefix}CallerIDNum", ""))


def _transfer(
    tracker: CallRegistry,
    event: Event,
    out: Out,
    *,
    linkedid: str,
    kind: TransferKind,
    to: str,
    from_prefix: str,
) -> None:
    call = tracker.calls.get(linkedid)
    if call is None or event.get("Result", "Success") != "Success":
        return
    at = tracker.now(event)
    from_party = _party(tracker, event, from_prefix)
    call.transfers.append(Transfer(kind=kind, from_party=from_party, to=to, at=at))
    out.append(
        CallTransferred(
            linkedid=call.linkedid,
            at=at,
            kind=kind,
            from_party=from_party,
            to=to,
            transferee=_party(tracker, event, "Transferee"),
        )
    )


def on_blind_transfer(tracker: CallRegistry, event: Event, out: Out) -> None:
    linkedid = event.get("TransfereeLinkedid") or event.get("TransfererLinkedid", "")
    to = event.get("Extension", "")
    _transfer(
        tracker,
        event,
        out,
        linkedid=linkedid,
        kind=TransferKind.BLIND,
        to=to,
        from_prefix="Transferer",
    )


def on_attended_transfer(tracker: CallRegistry, event: Event, out: Out) -> None:
    linkedid = event.get("TransfereeLinkedid") or event.get("OrigTransfererLinkedid", "")
    if event.get("DestType") == "App":
        to = event.get("DestApp", "")
    else:
        to = _party(tracker, event, "TransferTarget")
    _transfer(
        tracker,
        event,
        out,
        linkedid=linkedid,
        kind=TransferKind.ATTENDED,
        to=to,
        from_prefix="OrigTransferer",
    )


def on_rename(tracker: CallRegistry, event: Event, out: Out) -> None:
    # Older Asterisk (masquerades) renames channels in place; keep the name index right.
    channel = tracker.channels.get(event.get("Uniqueid", ""))
    new_name = event.get("Newname", "")
    if channel is None or not new_name:
        return
    tracker.by_name.pop(channel.name, None)
    channel.name = new_name
    tracker.by_name[new_name] = channel.uniqueid
