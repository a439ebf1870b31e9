"""Errors of the intake."""

from __future__ import annotations

from callcenter.errors import Conflict, NotFound


class NoSuchSuggestion(NotFound):
    error_id = "no-such-duplicate-suggestion"


class SuggestionDecided(Conflict):
    error_id = "duplicate-suggestion-decided"
