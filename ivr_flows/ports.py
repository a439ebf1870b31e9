"""What the IVR flows need from the rest of the system, as a Protocol.

The flows never import ``callcenter``: the lead's adapter
(``callcenter/agi/backend.py``) implements :class:`IvrBackend` over the request
store, the SMS service and the AMI view of the queue; the tests use
:class:`ivr_flows.fakes.FakeBackend`. Every method is keyword-only so a call
reads without counting positions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["CodeValidator", "IvrBackend", "KnownPlace", "RequestSummary"]

CodeValidator = Callable[[str], bool]
"""Checks a typed tracking code's check digit (``callcenter.cases.tracking.is_valid_code``)."""


@dataclass(frozen=True)
class RequestSummary:
    """A request as the IVR speaks about it.

    ``status`` is the store's status name (``new``, ``referred``, ``in_progress``,
    ``resolved``, ``closed``, ``rejected``, ``duplicate``, ``reopened``): the flow
    plays ``status-<status>``. ``department_code`` names the prompt
    ``dept-<code>``; the names in both languages are for logs and tests.
    """

    code: str
    status: str
    department_code: str
    department_fa: str
    department_en: str
    created: datetime
    # True when the report was added to the caller's open request of the same category
    # (duplicate rule 1): the flow says "added to your request", not "filed".
    repeat: bool = False


@dataclass(frozen=True)
class KnownPlace:
    """The one neighbourhood a caller's earlier requests name: offered for confirmation.
    ``neighbourhood_code`` names the prompt ``hood-<code>``."""

    neighbourhood_code: str
    district: int


@runtime_checkable
class IvrBackend(Protocol):
    """The services the 137 flows call. Implementations must not block the loop."""

    async def open_requests(self, *, phone: str) -> list[RequestSummary]:
        """Open requests of the citizen with this (raw caller-ID) number, any order."""
        ...

    async def lookup(self, *, code: str) -> RequestSummary | None:
        """The request with this tracking code, or ``None`` if there is none."""
        ...

    async def file_request(
        self,
        *,
        phone: str,
        caller_name: str,
        category_number: int,
        recording_path: str,
        call_uniqueid: str,
        district: int | None = None,
        neighbourhood_code: str | None = None,
    ) -> RequestSummary:
        """File a request from channel ``phone`` in menu category 1..6, route it.

        ``recording_path`` is the file Asterisk wrote (with extension); ``district`` is
        the key the caller pressed (``None``: did not know), ``neighbourhood_code`` the
        earlier neighbourhood the caller confirmed.
        """
        ...

    async def known_place(self, *, phone: str) -> KnownPlace | None:
        """The neighbourhood of the caller's earlier requests, when they name exactly one."""
        ...

    async def send_sms_code(self, *, phone: str, code: str) -> None:
        """Send the tracking code by SMS (queued by the SMS service, not awaited on the wire)."""
        ...

    async def create_callback(
        self,
        *,
        phone: str,
        call_uniqueid: str,
        queued_at: datetime,
        request_code: str | None,
    ) -> None:
        """Make a callback task that keeps the caller's place (ordered by ``queued_at``)."""
        ...

    async def agents_available(self) -> bool:
        """Whether at least one agent is logged in to the queue."""
        ...

    async def is_open_now(self) -> bool:
        """Whether the contact center is within its opening hours now."""
        ...

    async def record_survey(
        self,
        *,
        request_code: str,
        rating: int,
        fixed: bool | None,
        call_uniqueid: str,
    ) -> None:
        """Store a survey answer on the request: ``rating`` 1..5, ``fixed`` or unknown."""
        ...

    async def opt_out(self, *, request_code: str, call_uniqueid: str) -> None:
        """The citizen pressed the opt-out key in a survey call: no more follow-ups."""
        ...
