"""An attachment as staff see it (the case view, the pop)."""

from __future__ import annotations

from pydantic import BaseModel

from callcenter.attachments.models import Attachment


class AttachmentOut(BaseModel):
    id: int
    kind: str
    channel: str
    content_type: str | None
    size: int | None
    latitude: float | None
    longitude: float | None
    url: str | None  # a photo, for signed-in staff (the case view and the pop)


def staff_url(code: str, attachment_id: int) -> str:
    return f"/api/cases/{code}/attachments/{attachment_id}"


def attachment_out(code: str, row: Attachment) -> AttachmentOut:
    assert row.id is not None
    return AttachmentOut(id=row.id, kind=row.kind, channel=row.channel,
                         content_type=row.content_type, size=row.size,
                         latitude=row.latitude, longitude=row.longitude,
                         url=staff_url(code, row.id) if row.path else None)
