"""The tracker's transfer handlers: blind, attended and semi-attended ("blonde") transfers.

Recorded on Asterisk 22 (tests/data/ami-shapes, docs/call-shapes.md):

- ``BlindTransfer`` names the extension (a phone, or a ring group's number); what became
  of the caller there is read from the dials that follow in the same call.
- ``AttendedTransfer`` of an AMI ``Atxfer`` carries no target fields at all, or names
  only the ``Local/...;1`` half of the consultation dial (``DestType: Bridge``), or the
  app its ``;2`` half runs (``DestApp: Dial``). The real target is the phone that Local
  pair dialled (the Local channel is marked by ``VarSet ATTENDEDTRANSFER``), else a real
  party in the bridge the transferee ends in.
- The target still ringing when the transfer completes makes it semi-attended; its
  answer (or busy, no answer) arrives later as the DialEnd of that phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from callcenter.calls.events import (
    CallEvent,
    CallTransferred,
    Transfer,
    TransferKind,
    TransferResult,
)
from callcenter.calls.registry import CallRegistry
from callcenter.calls.state import Channel, LiveCall, party_of

Event = Mapping[str, str]
Out = list[CallEvent]

# DialEnd DialStatus (or our own reading of a hangup) -> what the target did.
_RESULTS = {
    "ANSWER": TransferResult.ANSWERED,
    "BUSY": TransferResult.BUSY,
    "NOANSWER": TransferResult.NO_ANSWER,
    "REJECTED": TransferResult.BUSY,
    "CHANUNAVAIL": TransferResult.UNAVAILABLE,
    "CONGESTION": TransferResult.UNAVAILABLE,
    "UNCONFIRMED": TransferResult.NOT_ACCEPTED,
}


def settle(call: LiveCall, status: str, party: str | None = None) -> None:
    """A dial after the call's last transfer ended with ``status``: the target's result.

    ``CANCEL`` says nothing on its own (a ring group cancels the members who did not
    pick up), so it leaves the result open; an open result at the end reads as cancelled.
    """
    if not call.transfers or call.transfers[-1].result is not None:
        return
    result = _RESULTS.get(status)
    if result is None:
        return
    answered_by = party if result is TransferResult.ANSWERED else None
    call.transfers[-1] = replace(call.transfers[-1], result=result, answered_by=answered_by)


def _party(tracker: CallRegistry, event: Event, prefix: str) -> str:
    channel = tracker.channels.get(event.get(f"{prefix}Uniqueid", ""))
    if channel is not None:
        return channel.party
    return party_of(event.get(f"{prefix}Channel", ""), event.get(f"{prefix}CallerIDNum", ""))


def _record(
    tracker: CallRegistry, event: Event, out: Out, call: LiveCall, transfer: Transfer
) -> None:
    call.transfers.append(transfer)
    out.append(
        CallTransferred(
            linkedid=call.linkedid,
            at=transfer.at,
            kind=transfer.kind,
            from_party=transfer.from_party,
            to=transfer.to,
            transferee=_party(tracker, event, "Transferee"),
        )
    )


def _call_of(tracker: CallRegistry, event: Event, *prefixes: str) -> LiveCall | None:
    if event.get("Result", "Success") != "Success":
        return None
    for prefix in prefixes:
        call = tracker.calls.get(event.get(f"{prefix}Linkedid", ""))
        if call is not None:
            return call
        channel = tracker.channels.get(event.get(f"{prefix}Uniqueid", ""))
        if channel is not None and channel.linkedid in tracker.calls:
            return tracker.calls[channel.linkedid]
    return None


def on_blind_transfer(tracker: CallRegistry, event: Event, out: Out) -> None:
    call = _call_of(tracker, event, "Transferee", "Transferer")
    if call is None:
        return
    transfer = Transfer(
        kind=TransferKind.BLIND,
        from_party=_party(tracker, event, "Transferer"),
        to=event.get("Extension", ""),
        at=tracker.now(event),
    )
    _record(tracker, event, out, call, transfer)


def _local_base(name: str) -> str:
    """``Local/2102@agents-00000002;1`` -> ``Local/2102@agents-00000002`` (both halves)."""
    return name.rpartition(";")[0] or name


def _dialled_by(call: LiveCall, local_names: set[str]) -> list[Channel]:
    """Real legs of ``call`` that a Local pair among ``local_names`` dialled, in order."""
    bases = {_local_base(name) for name in local_names}
    return [
        leg
        for leg in call.legs.values()
        if leg.dialer_name and _local_base(leg.dialer_name) in bases
    ]


def _bridge_parties(tracker: CallRegistry, bridge_id: str, skip: set[str]) -> list[Channel]:
    members = tracker.bridges.get(bridge_id, set())
    found = [tracker.channels.get(uniqueid) for uniqueid in members]
    return [c for c in found if c is not None and not c.is_local and c.uniqueid not in skip]


def _attended_target(
    tracker: CallRegistry, event: Event, call: LiveCall
) -> tuple[str, Channel | None]:
    """The transfer's real target: its name and, when it is a phone the tracker knows, its leg."""
    target = tracker.channels.get(event.get("TransferTargetUniqueid", ""))
    if target is None and event.get("TransferTargetChannel"):
        target = tracker.channel_by_name(event["TransferTargetChannel"])
    if target is not None and not target.is_local:
        return target.party, target
    locals_ = set(call.consult_locals)
    if target is not None:
        locals_.add(target.name)
    legs = _dialled_by(call, locals_)
    if not legs:
        skip = {
            event.get("TransfereeUniqueid", ""),
            event.get("OrigTransfererUniqueid", ""),
            event.get("SecondTransfererUniqueid", ""),
        }
        legs = _bridge_parties(tracker, event.get("DestBridgeUniqueid", ""), skip)
    if legs:
        answered = [leg for leg in legs if leg.answered]
        leg = answered[-1] if answered else legs[-1]
        return leg.party, leg
    if event.get("DestType") == "App":
        return event.get("DestApp", ""), None  # e.g. straight into VoiceMail or Park
    return "", None


def on_attended_transfer(tracker: CallRegistry, event: Event, out: Out) -> None:
    call = _call_of(tracker, event, "Transferee", "OrigTransferer", "SecondTransferer")
    if call is None:
        return
    to, leg = _attended_target(tracker, event, call)
    kind = TransferKind.ATTENDED
    result: TransferResult | None = None
    answered_by = None
    if leg is not None and leg.answered:
        result, answered_by = TransferResult.ANSWERED, leg.party
    elif leg is not None:
        kind = TransferKind.SEMI_ATTENDED  # still ringing: its answer comes later
    transfer = Transfer(
        kind=kind,
        from_party=_party(tracker, event, "OrigTransferer"),
        to=to,
        at=tracker.now(event),
        result=result,
        answered_by=answered_by,
    )
    _record(tracker, event, out, call, transfer)


def note_consultation(call: LiveCall, channel: Channel, value: str) -> None:
    """``VarSet ATTENDEDTRANSFER`` on a Local channel: it is the consultation dial."""
    if value and channel.is_local:
        call.consult_locals.add(channel.name)
