"""What the delivery needs of a channel (``sms/channel.py`` is the SMS one)."""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from callcenter.messages.store import ClaimedMessage


class MessageChannel(Protocol):
    """One way to reach a citizen. ``send_once`` blocks (it runs on a worker thread) and
    returns the provider's id; an exception with ``retryable = False`` is final."""

    name: str

    def send_once(self, *, to: str, body: str) -> str: ...

    def record(self, *, session: Session, message: ClaimedMessage, sent: bool,
               provider_id: str | None, error: str | None) -> None:
        """Log the final outcome where the channel keeps its own log (the caller commits)."""
        ...
