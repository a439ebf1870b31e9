"""Payloads of the supervisor's actions."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CallbackIn(BaseModel):
    linkedid: str = Field(min_length=1, max_length=64)
    assigned_user_id: int | None = None


class CallbackOut(BaseModel):
    task_id: int
    linkedid: str
    state: str
