"""Errors of the request store."""

from __future__ import annotations

from callcenter.errors import Conflict, NotFound


class NoSuchRequest(NotFound):
    error_id = "no-such-request"


class InvalidTransition(Conflict):
    error_id = "invalid-status-transition"
