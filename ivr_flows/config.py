"""Tunable numbers of the 137 flows, built once by the caller of :func:`build_flows`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["MAX_CALLBACK_OFFER_AFTER", "FlowConfig"]

MAX_CALLBACK_OFFER_AFTER = 3600
"""Longest timed callback offer (seconds); the dialplan's QUEUE_MAX_WAIT is 900."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FlowConfig:
    """Settings of the IVR flows.

    ``recordings_dir`` is the folder *as Asterisk sees it* (``RECORD FILE`` runs
    inside the PBX, possibly in a chroot): recordings are named
    ``<recordings_dir>/request-<uniqueid>.<record_format>``.
    """

    recordings_dir: Path
    max_tries: int = 3
    menu_timeout: float = 5.0
    code_timeout: float = 10.0
    code_max_digits: int = 16
    record_max_seconds: int = 120
    record_format: str = "wav"
    greeting_offer_timeout: float = 3.0
    max_steps: int = 200
    """A flow stops after this many state transitions (a bug guard, never reached by a caller)."""
    districts: tuple[int, ...] = ()
    """The municipal districts a caller may key after the category (``neighbourhoods.yaml``);
    empty skips the step. Key ``0`` is always "don't know"."""
    callback_offer_after: int = 60
    """Seconds a queued caller waits before the dialplan offers "press 1 for a callback"
    (``CALLBACK_OFFER_AFTER``); 0: no timed offer, only the queue's periodic announce."""
    clock: Callable[[], datetime] = field(default=_utc_now)
    """Aware "now", used when the queue did not say when the caller joined."""

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        if not 1 <= self.record_max_seconds <= 600:
            raise ValueError("record_max_seconds must be within 1..600")
        if any(not 1 <= d <= 9 for d in self.districts):
            raise ValueError("districts must be keys 1..9 (0 is \"don't know\")")
        offer = self.callback_offer_after
        # It reaches the dialplan as a Queue() timeout: a plain integer, nothing else.
        if type(offer) is not int or not 0 <= offer <= MAX_CALLBACK_OFFER_AFTER:
            raise ValueError(
                f"callback_offer_after must be an integer within 0..{MAX_CALLBACK_OFFER_AFTER}")
        if self.code_max_digits < 4:
            raise ValueError("code_max_digits must be at least 4")
