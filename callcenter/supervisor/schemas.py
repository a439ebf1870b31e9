"""Payloads of the supervisor's actions."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callcenter.http_types import RowId


class CallbackIn(BaseModel):
    linkedid: str = Field(min_length=1, max_length=64)
    assigned_user_id: RowId | None = None


class CallbackOut(BaseModel):
    task_id: int
    linkedid: str
    state: str
