"""Calls the PBX places itself (AMI ``Originate``), read as the citizen experiences them.

Recorded on Asterisk 22 (tests/data/ami-shapes, docs/call-shapes.md): an Originate rings
its first leg with a ``DialBegin``/``DialEnd`` pair that has no dialling channel (only
``Dest*`` fields); that leg is the call's first channel. Then either

- its dialplan dials someone (click-to-call and callbacks ring the agent, then dial the
  citizen; "call me now" rings one outside number, then the other): the first leg's
  answer is only setup, the caller is that leg (the agent, or the number rung first) and
  the call is answered when the dialled destination is; or
- it runs an application (a survey's IVR): the first leg is the destination itself, the
  caller is the number the Originate presented ("137").

The product marks its own calls with ``CALL_PURPOSE`` (``callcenter/followups``); the
``[outbound]`` extensions name them too (``survey``, ``callback``).
"""

from __future__ import annotations

from collections.abc import Mapping

from callcenter.calls.events import CallEvent
from callcenter.calls.registry import CallRegistry
from callcenter.calls.state import LiveCall, dialled_number

Event = Mapping[str, str]
Out = list[CallEvent]

PURPOSE_VARIABLE = "CALL_PURPOSE"
# [outbound] extensions (config/asterisk/extensions.conf) -> purpose, unless CALL_PURPOSE says.
OUTBOUND_EXTENSIONS = {"survey": "survey", "callback": "callback"}


def is_origin_dial(event: Event) -> bool:
    """A Dial* event of an Originate's own first leg: no dialling channel."""
    return not event.get("Uniqueid") and bool(event.get("DestUniqueid"))


def on_origin_dial(tracker: CallRegistry, event: Event, out: Out) -> None:
    """``DialBegin``/``DialEnd`` of the first leg of an Originate."""
    leg = {
        "Event": event.get("Event", ""),
        "Uniqueid": event.get("DestUniqueid", ""),
        "Linkedid": event.get("DestLinkedid", ""),
        "Channel": event.get("DestChannel", ""),
    }
    if event.get("Timestamp"):
        leg["Timestamp"] = event["Timestamp"]
    found = tracker.touch(leg, out)
    if found is None:
        return
    channel, call = found
    if channel.uniqueid != call.linkedid:
        return
    call.originated = True
    if event.get("Event") == "DialBegin":
        channel.dialled = channel.dialled or dialled_number(event.get("DialString", ""))
        call.caller = channel.party
        return
    status = event.get("DialStatus", "")
    if status == "ANSWER":
        call.origin_answered_at = tracker.now(event)
    elif status:
        call.dial_statuses.append(status)
        call.first_dialed = call.first_dialed or channel.party


def note_exten(call: LiveCall, context: str, exten: str, outbound_context: str) -> None:
    if call.originated and context == outbound_context and call.purpose is None:
        call.purpose = OUTBOUND_EXTENSIONS.get(exten)
