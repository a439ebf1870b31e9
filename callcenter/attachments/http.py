"""Attachments over HTTP. ``GET /media/attachments/{id}?exp=&sig=``: a photo by signed
link (Shahrbin's departments, Open311's ``media_url``); the signature
(``media.links.LinkSigner``) covers the id, so no other file can be reached. For
signed-in staff: ``/api/cases/{code}/attachments`` (list; upload a photo, e.g. at the
walk-in desk) and ``/api/cases/{code}/attachments/{id}`` (the file)."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile
from fastapi.responses import FileResponse

from callcenter.attachments.models import Attachment
from callcenter.attachments.schemas import AttachmentOut, attachment_out
from callcenter.attachments.services import (
    add_photo,
    attachment_link_path,
    attachments_root,
    photos_to_outbox,
    request_attachments,
)
from callcenter.auth.deps import DbSession, StaffUser
from callcenter.cases.services import add_event, get_request_by_code
from callcenter.db.engine import read_scope, session_scope
from callcenter.deps import AppServices
from callcenter.errors import NotFound
from callcenter.media.links import LinkSigner

router = APIRouter(tags=["attachments"])


@router.get("/media/attachments/{attachment_id}")
async def attachment_file(attachment_id: int, services: AppServices, exp: str | None = None,
                          sig: str | None = None) -> FileResponse:
    LinkSigner.from_settings(services.settings).verify(
        attachment_link_path(attachment_id), exp=exp, sig=sig)

    def load() -> Attachment | None:
        with read_scope(services.engine) as session:
            return session.get(Attachment, attachment_id)

    row = await services.pools.store.run(load)
    if row is None or not row.path:
        raise NotFound("no such attachment")
    path = attachments_root(services.settings.data_dir) / row.path
    if not path.is_file():
        raise NotFound("no such attachment")
    return FileResponse(path, media_type=row.content_type or "application/octet-stream")


@router.get("/api/cases/{code}/attachments", response_model=list[AttachmentOut])
def list_attachments(code: str, _user: StaffUser, session: DbSession) -> list[AttachmentOut]:
    request = get_request_by_code(session=session, code=code)
    assert request.id is not None
    return [attachment_out(code, a)
            for a in request_attachments(session=session, request_id=request.id)]


@router.get("/api/cases/{code}/attachments/{attachment_id}")
def staff_attachment_file(code: str, attachment_id: int, _user: StaffUser,
                          session: DbSession, services: AppServices) -> FileResponse:
    """Only an attachment of this request: an id of another one is the same 404."""
    request = get_request_by_code(session=session, code=code)
    row = session.get(Attachment, attachment_id)
    if row is None or row.request_id != request.id or not row.path:
        raise NotFound("no such attachment")
    path = attachments_root(services.settings.data_dir) / row.path
    if not path.is_file():
        raise NotFound("no such attachment")
    return FileResponse(path, media_type=row.content_type or "application/octet-stream")


@router.post("/api/cases/{code}/attachments", response_model=AttachmentOut, status_code=201)
async def upload_attachment(code: str, user: StaffUser, services: AppServices,
                            photo: UploadFile) -> AttachmentOut:
    """A photo brought to the walk-in desk (or sent by e-mail) onto its request;
    checked by size and bytes like the bot's."""
    limit = services.settings.attachment_max_bytes
    content = await photo.read(limit + 1)

    def work() -> AttachmentOut:
        with session_scope(services.engine) as session:
            request = get_request_by_code(session=session, code=code)
            row = add_photo(session=session, root=attachments_root(services.settings.data_dir),
                            content=content, max_bytes=limit, channel=request.channel,
                            request_id=request.id)
            session.flush()
            add_event(session=session, request=request, kind="attachment", actor=user.username,
                      data={"attachment_id": row.id, "kind": row.kind})
            photos_to_outbox(session=session, request=request)
            return attachment_out(code, row)

    return await services.pools.store.run(work)
