"""What the follow-up runner needs from the rest of the system, as Protocols.

``compose`` hands it the real parts (the SMS service, the AMI actions, the live queue
state); tests hand it fakes. Nothing here imports the parts themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

from sqlmodel import Session

from callcenter.calls.queue_state import QueueView
from callcenter.followups.config import RunnerConfig
from callcenter.followups.policy import ContactPolicy
from callcenter.sms.service import SmsResult

T = TypeVar("T")
__all__ = ["Originator", "PlacedCall", "QueueView", "RunnerContext", "SurveySms"]


class SurveySms(Protocol):
    """Sends one SMS and records it in the SMS log (``sms.service``)."""

    async def send(self, *, to: str, body: str, request_id: int | None = None) -> SmsResult: ...


class PlacedCall(Protocol):
    @property
    def uniqueid(self) -> str: ...


class Originator(Protocol):
    """Places an outbound call through the PBX (``ami.actions.AmiActions``)."""

    async def originate(
        self, *, channel: str, context: str, exten: str, priority: int = 1,
        caller_id: str = "", variables: dict[str, str] | None = None,
        ring_seconds: float = 45.0,
    ) -> PlacedCall: ...


class RunnerContext(Protocol):
    """What a task's steps read from the runner that claimed it."""

    config: RunnerConfig
    policy: ContactPolicy
    sms: SurveySms | None
    durable_sms: bool  # survey SMS queued as citizen messages (``serve``), not sent here
    actions: Originator | None
    queue_state: QueueView | None
    clock: Callable[[], datetime]
    owner: str

    def db(self, work: Callable[[Session], T]) -> Awaitable[T]: ...
