"""Bounded integer types for what the web accepts: a number past what the store holds
is a 422, not a driver error turned into a 500 (SQLite's ``OverflowError`` past 2^63,
PostgreSQL's "integer out of range" past 2^31 - the ids are ``INTEGER`` columns)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_STORE_INT = 2**31 - 1  # PostgreSQL INTEGER, the narrower of the two backends
MAX_PAGE = 1_000_000  # (page - 1) * per_page stays far inside the store's integers

RowIdPath = Annotated[int, Path(ge=1, le=MAX_STORE_INT, description="A row id")]
RowId = Annotated[int, Field(ge=1, le=MAX_STORE_INT)]
