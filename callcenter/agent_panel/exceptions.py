"""Errors of the agent panel, each with a stable id (mapped to HTTP in ``app.py``)."""

from __future__ import annotations

from callcenter.errors import DomainError


class PhoneSystemUnavailable(DomainError):
    """The queue action could not reach the PBX (no AMI bridge, or AMI is down)."""

    error_id = "phone-system-unavailable"
    status_code = 503


class NoExtension(DomainError):
    """The signed-in user has no extension, so no phone to log into the queue."""

    error_id = "no-extension"
    status_code = 409


class UnsafeForPhoneSystem(DomainError):
    """A value for the PBX (a break reason, the agent's name) holds a line break or NUL,
    or is too long for an AMI line; nothing was sent."""

    error_id = "unsafe-for-phone-system"
    status_code = 422
