"""Domain events the call tracker emits while it follows calls on the PBX.

Every event carries the call's ``linkedid`` (Asterisk's id for the whole call, shared by
all its channels) and ``at``: seconds since the epoch, taken from the AMI ``Timestamp``
header when Asterisk sends one (``timestampevents=yes``) and from the tracker's clock
otherwise. Parties are plain strings: the caller id number of a channel when it has a
useful one, else the device part of its name (``PJSIP/2101-0000002a`` -> ``2101``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """How a call ended, from the caller's point of view."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # hung up while waiting in a queue
    CALLBACK = "callback"  # asked to be called back instead of waiting
    IVR_ONLY = "ivr_only"  # never rang a person nor joined a queue
    MISSED = "missed"  # rang, nobody answered
    CANCELLED = "cancelled"  # the caller hung up while it rang
    REJECTED = "rejected"  # the far end refused or could not be reached
    BUSY = "busy"  # the far end was busy (SIP 486, also how most phones reject)


class TransferKind(StrEnum):
    BLIND = "blind"
    ATTENDED = "attended"  # the transferer talked to the target first
    SEMI_ATTENDED = "semi_attended"  # "blonde": transferred while the target still rang


class TransferResult(StrEnum):
    """What became of the transferred caller at the target."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNAVAILABLE = "unavailable"
    NOT_ACCEPTED = "not_accepted"  # picked up, never bridged with the caller
    CANCELLED = "cancelled"  # the caller hung up while the target rang


@dataclass(frozen=True, slots=True)
class CallStarted:
    linkedid: str
    at: float
    caller: str
    caller_name: str
    channel: str
    # True when the tracker met the call already in progress (stream started mid-call).
    joined_late: bool = False


@dataclass(frozen=True, slots=True)
class IvrChoiceMade:
    linkedid: str
    at: float
    choice: str
    ivr_path: tuple[str, ...]
    request_code: str | None = None


@dataclass(frozen=True, slots=True)
class CallQueued:
    linkedid: str
    at: float
    queue: str
    position: int


@dataclass(frozen=True, slots=True)
class AgentRinging:
    """An agent's phone rings with this call: the screen-pop moment."""

    linkedid: str
    at: float
    agent: str
    interface: str
    caller: str
    caller_name: str
    queue: str | None
    ivr_path: tuple[str, ...]
    request_code: str | None = None


@dataclass(frozen=True, slots=True)
class AgentNoAnswer:
    linkedid: str
    at: float
    agent: str
    interface: str
    status: str  # NOANSWER, BUSY, CHANUNAVAIL, RingNoAnswer...
    ring_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class CallAnswered:
    linkedid: str
    at: float
    agent: str
    interface: str
    hold_seconds: float
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class CallTransferred:
    linkedid: str
    at: float
    kind: TransferKind
    from_party: str  # who transferred
    to: str  # the extension (blind) or party (attended) the call went to
    transferee: str  # who was transferred (usually the caller)


@dataclass(frozen=True, slots=True)
class CallAbandoned:
    linkedid: str
    at: float
    queue: str | None
    wait_seconds: float
    position: int | None


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    linkedid: str
    at: float
    caller: str
    queue: str | None
    position: int | None


@dataclass(frozen=True, slots=True)
class Transfer:
    kind: TransferKind
    from_party: str
    to: str  # the extension dialled (blind: a ring group's number) or the party (attended)
    at: float
    result: TransferResult | None = None
    answered_by: str | None = None  # who picked up at the target (a ring group's member)


@dataclass(frozen=True, slots=True)
class CallEnded:
    """Exactly one per linkedid: the summary the store turns into a call record."""

    linkedid: str
    at: float
    outcome: Outcome
    caller: str
    caller_name: str
    parties: tuple[str, ...]
    answered_by: str | None
    transfers: tuple[Transfer, ...]
    queue: str | None
    started_at: float
    answered_at: float | None
    ended_at: float
    wait_seconds: float
    talk_seconds: float
    hangup_by: str | None
    ivr_path: tuple[str, ...] = field(default_factory=tuple)
    request_code: str | None = None
    joined_late: bool = False
    # False when the call's channels were found gone at a resync (AMI was away when it
    # ended): its end time and waits are those of the resync, Asterisk's records know better.
    end_seen: bool = True
    # A call the PBX placed itself (AMI Originate): the caller is who it was placed for.
    originated: bool = False
    # The product's own outbound calls: "survey", "callback", "click-to-call".
    purpose: str | None = None
    # Who the caller talked to last (the transfer target who answered, else answered_by).
    ended_with: str | None = None


CallEvent = (
    CallStarted
    | IvrChoiceMade
    | CallQueued
    | AgentRinging
    | AgentNoAnswer
    | CallAnswered
    | CallTransferred
    | CallAbandoned
    | CallbackRequested
    | CallEnded
)
