"""Store, attach and list attachments; photos are checked by size and by their bytes.

A photo's type is read from its first bytes (JPEG, PNG, WebP), never from what the
sender declared: a renamed PDF or an executable is refused. Files go under
``<data_dir>/attachments/YYYY/MM/`` with a random name; the store keeps the path.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from callcenter.attachments.models import Attachment, AttachmentKind
from callcenter.clock import utcnow
from callcenter.errors import DomainError
from callcenter.media.links import LinkSigner
from callcenter.outbox.models import OutboxItem
from callcenter.outbox.ports import OutboxSubject
from callcenter.outbox.writer import OutboxKind, enqueue

# Magic numbers of the photo types a phone sends.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
ALLOWED_TYPES = ("image/jpeg", "image/png", "image/webp")


class AttachmentRefused(DomainError):
    """``reason``: ``too-large`` or ``wrong-type`` (told to the citizen as such)."""

    error_id = "attachment-refused"
    status_code = 422

    def __init__(self, message: str, *, reason: str, **details: object) -> None:
        super().__init__(message, reason=reason, **details)
        self.reason = reason


@dataclass(frozen=True)
class PhotoCheck:
    content_type: str
    suffix: str


def sniff_photo(head: bytes) -> PhotoCheck | None:
    """The photo type of these first bytes, or None when they are not a photo we take."""
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return PhotoCheck(content_type, suffix)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return PhotoCheck("image/webp", ".webp")
    return None


def check_declared(*, size: int | None, content_type: str | None, max_bytes: int) -> None:
    """Refuse before downloading when what the sender declared already fails."""
    if size is not None and size > max_bytes:
        raise AttachmentRefused("photo too large", reason="too-large", size=size,
                                limit=max_bytes)
    if content_type is not None and content_type.lower() not in ALLOWED_TYPES:
        raise AttachmentRefused("not a photo", reason="wrong-type", content_type=content_type)


def save_photo(*, root: Path, content: bytes, max_bytes: int) -> tuple[str, PhotoCheck]:
    """Write a checked photo under ``root``; returns its path relative to ``root``."""
    if len(content) > max_bytes:
        raise AttachmentRefused("photo too large", reason="too-large", size=len(content),
                                limit=max_bytes)
    check = sniff_photo(content[:16])
    if check is None:
        raise AttachmentRefused("not a JPEG, PNG or WebP photo", reason="wrong-type")
    now = utcnow()
    relative = Path(f"{now:%Y}") / f"{now:%m}" / (secrets.token_hex(16) + check.suffix)
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return relative.as_posix(), check


def add_photo(*, session: Session, root: Path, content: bytes, max_bytes: int, channel: str,
              request_id: int | None = None, chat_id: int | None = None) -> Attachment:
    """Check, write and record a photo (the caller commits)."""
    path, check = save_photo(root=root, content=content, max_bytes=max_bytes)
    row = Attachment(kind=AttachmentKind.PHOTO, channel=channel, path=path,
                     content_type=check.content_type, size=len(content),
                     request_id=request_id, chat_id=chat_id)
    session.add(row)
    return row


def add_location(*, session: Session, latitude: float, longitude: float, channel: str,
                 request_id: int | None = None, chat_id: int | None = None) -> Attachment:
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise AttachmentRefused("not a position on Earth", reason="bad-location")
    row = Attachment(kind=AttachmentKind.LOCATION, channel=channel, latitude=latitude,
                     longitude=longitude, request_id=request_id, chat_id=chat_id)
    session.add(row)
    return row


def attach_pending(*, session: Session, chat_id: int, request_id: int) -> list[int]:
    """Move what a bot chat collected onto the request it filed; the photos' ids."""
    rows = session.exec(select(Attachment).where(Attachment.chat_id == chat_id)
                        .where(col(Attachment.request_id).is_(None))).all()
    for row in rows:
        row.request_id = request_id
        session.add(row)
    return [r.id for r in rows if r.kind == AttachmentKind.PHOTO and r.id is not None]


def drop_pending(*, session: Session, root: Path, chat_id: int) -> None:
    """A conversation given up: its unfiled photos and locations go (files too)."""
    rows = session.exec(select(Attachment).where(Attachment.chat_id == chat_id)
                        .where(col(Attachment.request_id).is_(None))).all()
    for row in rows:
        if row.path:
            (root / row.path).unlink(missing_ok=True)
        session.delete(row)


def request_attachments(*, session: Session, request_id: int) -> list[Attachment]:
    return list(session.exec(select(Attachment).where(Attachment.request_id == request_id)
                             .order_by(col(Attachment.id))).all())


def attachment_link_path(attachment_id: int) -> str:
    """The public path of a signed attachment link (``attachments/http.py``)."""
    return f"/media/attachments/{attachment_id}"


def attachment_links(signer: LinkSigner, attachment_ids: list[int]) -> list[str]:
    return [signer.sign(attachment_link_path(i)) for i in attachment_ids]


def tag_outbox(*, session: Session, request_id: int, attachment_ids: list[int]) -> None:
    """Name the photos on the request's pending Shahrbin items: the deliverer signs a
    link for each as it sends (a link made at filing could expire in the queue)."""
    items = session.exec(select(OutboxItem).where(OutboxItem.request_id == request_id)
                         .where(col(OutboxItem.delivered_at).is_(None))).all()
    for item in items:
        item.payload = {**item.payload, "attachment_ids": attachment_ids}
        session.add(item)


def photos_to_outbox(*, session: Session, request: OutboxSubject) -> None:
    """Tell Shahrbin about every photo of ``request``, on any channel (bot, Open311,
    walk-in desk): named on its pending items (``tag_outbox``). A photo added after
    every item went (the walk-in form uploads it once the request is filed) goes on a
    new ``request_updated`` item. The caller commits."""
    assert request.id is not None
    session.flush()
    photos = [a.id for a in request_attachments(session=session, request_id=request.id)
              if a.kind == AttachmentKind.PHOTO and a.id is not None]
    if not photos:
        return
    pending = session.exec(select(OutboxItem.id).where(OutboxItem.request_id == request.id)
                           .where(col(OutboxItem.delivered_at).is_(None))).first()
    if pending is None:
        enqueue(session=session, request=request, kind=OutboxKind.UPDATED)
        session.flush()
    tag_outbox(session=session, request_id=request.id, attachment_ids=photos)


def attachments_root(data_dir: Path) -> Path:
    return data_dir / "attachments"
