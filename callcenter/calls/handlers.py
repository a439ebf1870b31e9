"""The tracker's per-event handlers for channels, dials, bridges, hangups and transfers.

Each handler is ``handler(tracker, event, out)``: it reads one AMI event, updates the
tracker's records and appends domain events to ``out``. ``table()`` lists every AMI event
the tracker understands; queue and IVR events live in ``calls/queue_handlers.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from callcenter.calls import originate, queue_handlers, transfers
from callcenter.calls.events import AgentNoAnswer, CallEvent
from callcenter.calls.legs import answer, dest_channel, ring
from callcenter.calls.registry import CallRegistry
from callcenter.calls.state import CallState, Channel, LiveCall, dialled_number, interface_of

Event = Mapping[str, str]
Out = list[CallEvent]
Handler = Callable[[Event, Out], None]

# Channel events that carry nothing but the channel's own state: adopting the channel
# (and its call) and refreshing its caller id is all they need. The bridge subscribes to
# exactly the events of ``table()`` (``callcenter/ami/subscriptions.py``), so an event
# listed here costs every live call a dispatch: DialState, HangupRequest, SoftHangupRequest
# and MusicOnHold* carry nothing the tracker uses and are left out.
CHANNEL_ONLY = (
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "NewConnectedLine",
    "NewAccountCode",
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
            "BlindTransfer": transfers.on_blind_transfer,
            "AttendedTransfer": transfers.on_attended_transfer,
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
    _unanswered_leg_gone(call, channel, event.get("Cause", ""))
    tracker.drop_channel(channel)
    tracker.channel_gone(call, channel, tracker.now(event), out)


# Hangup causes of a leg that never answered, when they say more than its DialStatus:
# a 603 Decline reads as NOANSWER but hangs up with cause 21 (call rejected).
_REFUSED_CAUSES = {"21": "REJECTED", "17": "BUSY"}


def _unanswered_leg_gone(call: LiveCall, channel: Channel, cause: str) -> None:
    """A dialled leg hangs up: refine its dial status, drop an answer never bridged."""
    if call.pending.pop(channel.uniqueid, None) is not None:
        # Answered, never bridged with who dialled it (an "accept the call?" prompt
        # unanswered, a forward's voicemail refused): not an answer.
        call.dial_statuses.append("UNCONFIRMED")
        transfers.settle(call, "UNCONFIRMED")
        return
    refused = _REFUSED_CAUSES.get(cause)
    if (
        refused
        and channel.uniqueid in call.rung
        and channel.party not in call.answered_parties
        and call.dial_statuses[-1:] == ["NOANSWER"]
    ):
        call.dial_statuses[-1] = refused


def on_dial_begin(tracker: CallRegistry, event: Event, out: Out) -> None:
    if originate.is_origin_dial(event):
        originate.on_origin_dial(tracker, event, out)
        return
    found = tracker.touch(event, out)
    if found is None:
        return
    dialer, call = found
    dest = dest_channel(tracker, event, call)
    if dest is None:
        return
    dest.dialer, dest.dialer_name = dialer.uniqueid, dialer.name
    dest.dialled = dest.dialled or dialled_number(event.get("DialString", ""))
    if not dest.is_local:
        ring(tracker, call, dest, tracker.now(event), out)


def on_dial_end(tracker: CallRegistry, event: Event, out: Out) -> None:
    if originate.is_origin_dial(event):
        originate.on_origin_dial(tracker, event, out)
        return
    found = tracker.touch(event, out)
    if found is None:
        return
    dialer, call = found
    status = event.get("DialStatus", "")
    dest = dest_channel(tracker, event, call)
    at = tracker.now(event)
    if status == "ANSWER":
        if dest is not None and not dest.is_local:
            # Picked up; it counts once it is bridged with the channel that dialled it.
            call.pending[dest.uniqueid] = (dialer.uniqueid, at)
            _confirm_answers(tracker, call, out)
        return
    if status:
        call.dial_statuses.append(status)
        transfers.settle(call, status)
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
    _confirm_answers(tracker, call, out)
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
    if not channel.is_local:
        call.leave_order.pop(channel.party, None)
        call.leave_order[channel.party] = None
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


def _confirm_answers(tracker: CallRegistry, call: LiveCall, out: Out) -> None:
    """Answered legs now sharing a bridge with the channel that dialled them answered."""
    for dest_id, (dialer_id, at) in list(call.pending.items()):
        dest = tracker.channels.get(dest_id)
        if dest is None or dest.bridge is None:
            continue
        if dialer_id in tracker.bridges.get(dest.bridge, set()):
            del call.pending[dest_id]
            answer(call, dest, at, out)


def on_rename(tracker: CallRegistry, event: Event, out: Out) -> None:
    # Older Asterisk (masquerades) renames channels in place; keep the name index right.
    channel = tracker.channels.get(event.get("Uniqueid", ""))
    new_name = event.get("Newname", "")
    if channel is None or not new_name:
        return
    tracker.by_name.pop(channel.name, None)
    channel.name = new_name
    tracker.by_name[new_name] = channel.uniqueid
