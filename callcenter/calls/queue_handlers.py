"""The tracker's handlers for queue events (app_queue) and the IVR's channel variables.

Our FastAGI IVR marks its progress on the channel with ``Set()``, which Asterisk reports as
``VarSet``: ``IVR_CHOICE`` (one menu key), ``IVR_PATH`` (the whole path, ``/``-separated),
``IVR_REQUEST`` (the tracking code filed or followed up) and ``IVR_CALLBACK`` (the caller
pressed 1 in the queue to be called back). A ``UserEvent`` with ``UserEvent: IvrChoice``
(headers ``Choice``, optional ``Path``/``Request``) or ``UserEvent: CallbackRequested``
says the same for flows that prefer UserEvent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from callcenter.calls import originate, transfers
from callcenter.calls.events import (
    AgentNoAnswer,
    CallAbandoned,
    CallbackRequested,
    CallEvent,
    CallQueued,
    IvrChoiceMade,
)
from callcenter.calls.legs import answer, dest_channel, ring
from callcenter.calls.registry import CallRegistry
from callcenter.calls.state import CallState, LiveCall

Event = Mapping[str, str]
Out = list[CallEvent]

_TRUE = frozenset({"1", "yes", "true", "y"})


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _agent_id(event: Event) -> str:
    """``Interface: PJSIP/2101`` -> ``2101``; falls back to MemberName."""
    interface = event.get("Interface", "")
    device = interface.partition("/")[2]
    return device or event.get("MemberName", "") or interface


def _choice(tracker: CallRegistry, call: LiveCall, event: Event, out: Out, choice: str) -> None:
    out.append(
        IvrChoiceMade(
            linkedid=call.linkedid,
            at=tracker.now(event),
            choice=choice,
            ivr_path=tuple(call.ivr_path),
            request_code=call.request_code,
        )
    )


def _callback(tracker: CallRegistry, call: LiveCall, event: Event, out: Out) -> None:
    if call.callback:
        return
    call.callback = True
    out.append(
        CallbackRequested(
            linkedid=call.linkedid,
            at=tracker.now(event),
            caller=call.caller,
            queue=call.queue,
            position=call.position,
        )
    )


# Channel variables the tracker reads besides the IVR's own IVR_*.
_CALL_VARIABLES = frozenset({originate.PURPOSE_VARIABLE, "ATTENDEDTRANSFER"})


def var_set_matters(frame: str) -> bool:
    """Whether a raw (unparsed) VarSet frame names a variable :func:`on_var_set` reads:
    the AMI layer drops the others before parsing them (most VarSets of a call are
    Asterisk's and the dialplan's own). A frame of unusual shape is let through."""
    start = frame.find("\r\nVariable: ")
    if start < 0:
        return True
    start += len("\r\nVariable: ")
    end = frame.find("\r\n", start)
    variable = (frame[start:end] if end >= 0 else frame[start:]).strip()
    return variable.startswith("IVR_") or variable in _CALL_VARIABLES


def on_var_set(tracker: CallRegistry, event: Event, out: Out) -> None:
    variable = event.get("Variable", "")
    if not variable.startswith("IVR_") and variable not in _CALL_VARIABLES:
        return  # Asterisk sends a VarSet for every Set(); only ours matter.
    found = tracker.touch(event, out)
    if found is None:
        return
    channel, call = found
    value = event.get("Value", "")
    if variable == originate.PURPOSE_VARIABLE:
        call.purpose = value or call.purpose
    elif variable == "ATTENDEDTRANSFER":
        transfers.note_consultation(call, channel, value)
    elif variable == "IVR_CHOICE" and value:
        call.ivr_path.append(value)
        _choice(tracker, call, event, out, value)
    elif variable == "IVR_PATH":
        call.ivr_path = [step for step in value.replace(",", "/").split("/") if step]
    elif variable == "IVR_REQUEST":
        call.request_code = value or None
    elif variable == "IVR_CALLBACK" and value.lower() in _TRUE:
        _callback(tracker, call, event, out)


def on_user_event(tracker: CallRegistry, event: Event, out: Out) -> None:
    kind = event.get("UserEvent", "")
    if kind not in ("IvrChoice", "CallbackRequested"):
        tracker.touch(event, out)
        return
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    if kind == "CallbackRequested":
        _callback(tracker, call, event, out)
        return
    if event.get("Request"):
        call.request_code = event["Request"]
    if event.get("Path"):
        call.ivr_path = [s for s in event["Path"].replace(",", "/").split("/") if s]
    choice = event.get("Choice", "")
    if choice:
        if not event.get("Path"):
            call.ivr_path.append(choice)
        _choice(tracker, call, event, out, choice)


def on_new_exten(tracker: CallRegistry, event: Event, out: Out) -> None:
    # Our dialplan sends a waiting caller who presses 1 to [queue-exit] exten 1 (the
    # queue's "context" option): that step itself is the callback request, whatever the
    # AGI flow behind it does next.
    found = tracker.touch(event, out)
    if found is None:
        return
    context = event.get("Context", "")
    exten = event.get("Extension") or event.get("Exten", "")
    originate.note_exten(found[1], context, exten, tracker.outbound_context)
    if context != tracker.callback_context:
        return
    if (event.get("Extension") or event.get("Exten")) == "1":
        _callback(tracker, found[1], event, out)


def on_queue_join(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    at = tracker.now(event)
    call.queue = event.get("Queue") or call.queue
    call.position = _int(event.get("Position"))
    if call.answered_by is None:
        call.queue_joined_at = at
    call.move(CallState.QUEUED)
    out.append(
        CallQueued(
            linkedid=call.linkedid, at=at, queue=call.queue or "", position=call.position or 0
        )
    )


def on_queue_leave(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is not None and found[1].answered_by is None:
        found[1].queue_left_at = tracker.now(event)


def on_queue_abandon(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    call.abandoned = True
    call.queue = event.get("Queue") or call.queue
    position = _int(event.get("Position"))
    hold = _float(event.get("HoldTime"))
    at = tracker.now(event)
    if hold is None:
        waited_from = call.queue_joined_at if call.queue_joined_at is not None else call.started_at
        hold = max(at - waited_from, 0.0)
    call.abandon_wait = hold
    out.append(
        CallAbandoned(
            linkedid=call.linkedid, at=at, queue=call.queue, wait_seconds=hold, position=position
        )
    )


def on_agent_called(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    call.queue = event.get("Queue") or call.queue
    dest = dest_channel(tracker, event, call)
    if dest is None:
        return
    dest.agent = _agent_id(event)
    ring(tracker, call, dest, tracker.now(event), out)


def on_agent_no_answer(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    ring_ms = _float(event.get("RingTime"))
    out.append(
        AgentNoAnswer(
            linkedid=call.linkedid,
            at=tracker.now(event),
            agent=_agent_id(event),
            interface=event.get("Interface", ""),
            status="RingNoAnswer",
            ring_seconds=ring_ms / 1000 if ring_ms is not None else None,
        )
    )


def on_agent_connect(tracker: CallRegistry, event: Event, out: Out) -> None:
    found = tracker.touch(event, out)
    if found is None:
        return
    _, call = found
    dest = dest_channel(tracker, event, call)
    if dest is None:
        return
    dest.agent = dest.agent or _agent_id(event)
    hold = _float(event.get("HoldTime"))
    if hold is not None and call.answered_by is None and call.queue_joined_at is None:
        call.queue_joined_at = tracker.now(event) - hold
    answer(call, dest, tracker.now(event), out)


def on_channel_touch(tracker: CallRegistry, event: Event, out: Out) -> None:
    tracker.touch(event, out)


FRAME_FILTERS: Mapping[str, Callable[[str], bool]] = {"VarSet": var_set_matters}
"""Event name -> whether its raw frame can matter to the handler (see ``var_set_matters``)."""

HANDLERS: Mapping[str, Callable[[CallRegistry, Event, Out], None]] = {
    "VarSet": on_var_set,
    "UserEvent": on_user_event,
    "Newexten": on_new_exten,
    "QueueCallerJoin": on_queue_join,
    "QueueCallerLeave": on_queue_leave,
    "QueueCallerAbandon": on_queue_abandon,
    "AgentCalled": on_agent_called,
    "AgentRingNoAnswer": on_agent_no_answer,
    "AgentConnect": on_agent_connect,
    "AgentComplete": on_channel_touch,
}
