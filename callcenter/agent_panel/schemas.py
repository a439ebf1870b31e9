"""What the panel's forms and pushes carry."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callcenter.http_types import RowId

# No control characters: the reason goes into an AMI QueuePause line, where CR/LF would
# start a header or an action of the sender's choosing (the AMI layer refuses it too).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


class BreakIn(BaseModel):
    reason: str = Field(min_length=1, max_length=40, pattern=NO_CONTROL_CHARACTERS)


class PopRequestIn(BaseModel):
    """File a new request from the pop (or, with ``tracking_code``, update one)."""

    linkedid: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=3, max_length=40)
    category_code: str | None = Field(default=None, max_length=40)
    neighbourhood_code: str | None = Field(default=None, max_length=60)
    description: str | None = Field(default=None, max_length=4000)
    citizen_name: str | None = Field(default=None, max_length=120)
    tracking_code: str | None = Field(default=None, max_length=20)
    new_status: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=2000)


class WalkInIn(BaseModel):
    phone: str = Field(min_length=3, max_length=40)
    category_code: str = Field(min_length=1, max_length=40)
    neighbourhood_code: str | None = Field(default=None, max_length=60)
    description: str = Field(min_length=1, max_length=4000)
    citizen_name: str | None = Field(default=None, max_length=120)


class RequestSaved(BaseModel):
    tracking_code: str
    status: str
    department_code: str
    created: bool


class TaskAssignIn(BaseModel):
    user_id: RowId | None = None


class TaskOut(BaseModel):
    id: int
    kind: str
    state: str
    due_at: str
    phone: str | None
    tracking_code: str | None
    call_linkedid: str | None
    assigned_user_id: int | None
    assigned_to: str | None
    note: str | None
    # what the task is about (issue 17): the citizen, the request, the last action
    citizen_name: str | None = None
    request_status: str | None = None
    category_code: str | None = None
    attempts: int = 0
    last_action: dict[str, object] | None = None
