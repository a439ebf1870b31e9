"""Errors of the Shahrbin bridge."""

from __future__ import annotations

from callcenter.errors import Conflict, DomainError, InvalidInput, NotFound


class NoSuchOutboxItem(NotFound):
    error_id = "no-such-outbox-item"


class NotDeadLetter(Conflict):
    error_id = "not-a-dead-letter"


class BadSignature(DomainError):
    error_id = "bad-signature"
    status_code = 403


class BadStatusUpdate(InvalidInput):
    error_id = "bad-status-update"


class ShahrbinConfigError(Exception):
    """config/shahrbin.yaml is missing or malformed; the message names the file."""
