"""``GET /media/attachments/{id}?exp=&sig=``: a photo by signed link (Shahrbin's
departments, agents' case view). The signature (``media.links.LinkSigner``) covers the
id, so no other file can be reached; locations have no file (404)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from callcenter.attachments.models import Attachment
from callcenter.attachments.services import attachment_link_path, attachments_root
from callcenter.db.engine import read_scope
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
