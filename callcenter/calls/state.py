"""The tracker's per-call and per-channel records and the call's explicit state machine.

A call (one Asterisk ``Linkedid``) moves through named states; ``CallState.to()`` is the
only way to change state and refuses a move the table below does not list. Transfers
make a talking call ring or queue again, so those edges exist on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from callcenter.calls.events import Transfer


class InvalidCallTransition(Exception):
    """A call was asked to move to a state its current state does not lead to."""


class CallState(StrEnum):
    STARTED = "started"  # channel up, in dialplan/IVR
    QUEUED = "queued"  # waiting in a queue
    RINGING = "ringing"  # a person's phone rings
    TALKING = "talking"  # bridged with a person
    ENDED = "ended"

    def to(self, target: CallState) -> CallState:
        """Return ``target`` if this state may move there, else raise InvalidCallTransition."""
        if target is self or target in _TRANSITIONS[self]:
            return target
        raise InvalidCallTransition(f"{self.value} -> {target.value}")


_TRANSITIONS = MappingProxyType(
    {
        CallState.STARTED: frozenset(
            {CallState.QUEUED, CallState.RINGING, CallState.TALKING, CallState.ENDED}
        ),
        CallState.QUEUED: frozenset({CallState.RINGING, CallState.TALKING, CallState.ENDED}),
        # RINGING -> QUEUED: the agent did not answer, the queue keeps the caller waiting.
        CallState.RINGING: frozenset({CallState.QUEUED, CallState.TALKING, CallState.ENDED}),
        # TALKING -> RINGING/QUEUED: a transfer sends the caller to another phone or queue.
        CallState.TALKING: frozenset({CallState.RINGING, CallState.QUEUED, CallState.ENDED}),
        CallState.ENDED: frozenset(),
    }
)


def dialled_number(dial_string: str) -> str:
    """The number a Dial string names: ``0912...@citizens`` -> ``0912...``, ``PJSIP/2101`` ->
    ``2101``; "" when it names none plainly (chan_sip's ``peer/number/host!!extra``)."""
    head, at, _ = dial_string.partition("@")
    if at:
        return head.rsplit("/", 1)[-1]
    return dial_string.rsplit("/", 1)[-1] if dial_string.count("/") <= 1 else ""


def party_of(channel_name: str, number: str) -> str:
    """A stable party id for a channel.

    A numeric device (``PJSIP/2101-...`` -> ``2101``) names the phone itself, which is what
    an agent is; the caller id number of a dialled leg is often the number the caller
    dialled, not the phone's own. Trunks and named endpoints use the caller id number.
    """
    tech, _, rest = channel_name.partition("/")
    device = rest.rsplit("-", 1)[0] if "-" in rest else rest
    if device.isdigit():
        return device
    if number and number not in ("<unknown>", "s"):
        return number
    return device or tech


def interface_of(channel_name: str) -> str:
    """``PJSIP/2101-0000002a`` -> ``PJSIP/2101`` (what queue members are called)."""
    head, sep, tail = channel_name.rpartition("-")
    return head if sep and tail else channel_name


@dataclass(slots=True)
class Channel:
    uniqueid: str
    name: str
    linkedid: str
    number: str = ""
    cid_name: str = ""
    is_local: bool = False
    bridge: str | None = None
    agent: str | None = None  # set when a queue names this leg's member (AgentCalled)
    # The number this leg was dialled with (Dial string). On a trunk leg the caller id
    # is what the callee is shown ("137"), not who the callee is.
    dialled: str = ""
    dialer: str | None = None  # uniqueid of the channel whose Dial() rang this leg
    dialer_name: str = ""
    answered: bool = False  # picked up and bridged with who dialled it

    @property
    def party(self) -> str:
        return self.agent or party_of(self.name, self.dialled or self.number)


@dataclass(slots=True)
class LiveCall:
    linkedid: str
    started_at: float
    caller: str = ""
    caller_name: str = ""
    caller_uniqueid: str | None = None
    joined_late: bool = False
    end_seen: bool = True  # False: ended by a resync, its hangup happened while AMI was away
    inventory_complete: bool = True  # every channel of the call is known to the tracker
    originator_gone: bool = False
    state: CallState = CallState.STARTED
    channels: set[str] = field(default_factory=set)
    legs: dict[str, Channel] = field(default_factory=dict)  # real (non-Local) channels seen
    rung: set[str] = field(default_factory=set)  # dest uniqueids already announced
    answered_by: str | None = None
    answered_parties: set[str] = field(default_factory=set)
    answered_at: float | None = None
    queue: str | None = None
    queue_joined_at: float | None = None
    queue_left_at: float | None = None
    position: int | None = None
    abandoned: bool = False
    abandon_wait: float | None = None
    callback: bool = False
    dial_statuses: list[str] = field(default_factory=list)
    first_dialed: str | None = None
    transfers: list[Transfer] = field(default_factory=list)
    ivr_path: list[str] = field(default_factory=list)
    request_code: str | None = None
    hangup_by: str | None = None
    first_real_hangup: str | None = None
    # Real parties in the order they last left a bridge (a dict as an ordered set): who
    # left the final conversation first. Order, not time: recordings may lack Timestamp.
    leave_order: dict[str, None] = field(default_factory=dict)
    # Originated calls (AMI Originate): the first leg rings first, its answer is setup.
    originated: bool = False
    origin_answered_at: float | None = None
    presented: str = ""  # the caller id the originate presented (a survey's "137")
    purpose: str | None = None
    # Answered legs waiting to be bridged with the channel that dialled them:
    # dest uniqueid -> (dialer uniqueid, DialEnd time). Only a bridge makes it an answer.
    pending: dict[str, tuple[str, float]] = field(default_factory=dict)
    consult_locals: set[str] = field(default_factory=set)  # Local halves of an atxfer dial

    def move(self, target: CallState) -> None:
        self.state = self.state.to(target)

    def close_originated(self) -> None:
        """At the end of an Originate that dialled nobody: its first leg was the
        destination (a survey's citizen), reached when it answered; the caller is the
        number the Originate presented (callcenter/calls/originate.py)."""
        if not self.originated or self.answered_by is not None or self.first_dialed:
            return
        first = self.legs.get(self.linkedid)
        if self.origin_answered_at is None or first is None:
            return
        self.answered_by = first.party
        self.answered_parties.add(first.party)
        self.answered_at = self.origin_answered_at
        if self.presented:
            self.caller = self.presented

    def add_leg(self, channel: Channel) -> None:
        if not channel.is_local:
            self.legs.setdefault(channel.uniqueid, channel)

    @property
    def parties(self) -> list[str]:
        """Every real party of the call, caller first, by their latest caller id."""
        seen: dict[str, None] = {self.caller: None} if self.caller else {}
        for channel in self.legs.values():
            seen.setdefault(channel.party, None)
        seen.pop("", None)
        return list(seen)
