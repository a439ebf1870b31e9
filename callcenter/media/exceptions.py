"""Media errors, each with a stable id (mapped to HTTP once, in ``app.py``)."""

from __future__ import annotations

from callcenter.errors import DomainError, NotFound


class NoRecording(NotFound):
    """Unknown code, a request without a recording, or one removed by retention."""

    error_id = "no-recording"


class RecordingMissing(NotFound):
    """The store names a file that is not where recordings live (and no fetch is set)."""

    error_id = "recording-missing"


class RecordingUnavailable(DomainError):
    """The file exists but cannot be read, or the PBX host did not hand it over."""

    error_id = "recording-unavailable"
    status_code = 502


class RangeNotSatisfiable(DomainError):
    error_id = "range-not-satisfiable"
    status_code = 416

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message, size=size)
        self.size = size


class BadLink(DomainError):
    """A signed link that is forged, altered or expired."""

    error_id = "bad-link"
    status_code = 403
