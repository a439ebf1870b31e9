"""The body of an Open311 POST: form-encoded or JSON (GeoReport v2), or multipart with
one photo in ``media`` (the upload GeoReport v2 leaves open; clients such as the city's
app send the picture itself rather than a ``media_url`` elsewhere).

Bounded: the whole body is read at most ``MAX_BODY_BYTES`` (plus the photo limit for
multipart) before anything is parsed; the photo is checked by its bytes here, so a
refused one files nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from callcenter.attachments.services import AttachmentRefused, sniff_photo
from callcenter.errors import InvalidInput
from callcenter.intake.http_input import parse_form, parse_json_object, read_limited

MAX_BODY_BYTES = 64 * 1024
MULTIPART_OVERHEAD = 16 * 1024


async def read_post(request: Request, *, photo_limit: int) -> tuple[dict[str, Any], bytes | None]:
    """The fields, and the photo's bytes when one came (``AttachmentRefused`` if bad)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raw = await read_limited(request, MAX_BODY_BYTES)
        is_json = content_type.startswith("application/json")
        return (parse_json_object(raw) if is_json else parse_form(raw)), None
    raw = await read_limited(request, MAX_BODY_BYTES + photo_limit + MULTIPART_OVERHEAD)
    replayed = Request(request.scope, receive=_replay(raw))
    try:
        form = await replayed.form(max_files=1, max_fields=40)
    except Exception:  # starlette's MultiPartException and malformed boundaries
        raise InvalidInput("body is not multipart/form-data") from None
    fields: dict[str, Any] = {}
    media: bytes | None = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "media":
                media = await value.read(photo_limit + 1)
            await value.close()
        else:
            fields[key] = value
    await form.close()
    if media is not None:
        if len(media) > photo_limit:
            raise AttachmentRefused("photo too large", reason="too-large", limit=photo_limit)
        if sniff_photo(media[:16]) is None:
            raise AttachmentRefused("media is not a JPEG, PNG or WebP photo",
                                    reason="wrong-type")
    return fields, media


def _replay(raw: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive
