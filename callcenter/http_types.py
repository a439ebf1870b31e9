"""Bounded integer types for what the web accepts: a number past what the store holds
(``2^63 - 1`` on PostgreSQL's BIGINT and SQLite's INTEGER) is a 422, not a driver
``OverflowError`` turned into a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_STORE_INT = 2**63 - 1
MAX_PAGE = 1_000_000  # (page - 1) * per_page stays far inside the store's integers

RowIdPath = Annotated[int, Path(ge=1, le=MAX_STORE_INT, description="A row id")]
RowId = Annotated[int, Field(ge=1, le=MAX_STORE_INT)]
