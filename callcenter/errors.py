"""Domain errors with a stable id, translated to HTTP once (in ``app.py``)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    error_id = "domain-error"
    status_code = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.error_id, "message": self.message, "details": self.details}


class NotFound(DomainError):
    error_id = "not-found"
    status_code = 404


class InvalidInput(DomainError):
    error_id = "invalid-input"
    status_code = 422


class Conflict(DomainError):
    error_id = "conflict"
    status_code = 409


class Forbidden(DomainError):
    """The caller is signed in but may not touch this object (another agent's task)."""

    error_id = "forbidden"
    status_code = 403
