"""``GET /api/requests/{code}/recording`` (agents, supervisors, admins) and the public
``GET /media/recordings/{code}?exp=&sig=`` (a signed link: Shahrbin's departments).

Both stream the request's recording with HTTP Range (206 + Content-Range; 416 past the
end). Unknown codes and requests without a recording are the same 404, so a guess
learns nothing; a missing or unreadable file is 404/502 with a clear error id."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine

from callcenter.auth.deps import StaffUser
from callcenter.cases.exceptions import NoSuchRequest
from callcenter.cases.services import get_request_by_code
from callcenter.db.engine import read_scope
from callcenter.deps import AppServices, Services
from callcenter.media.exceptions import NoRecording, RangeNotSatisfiable
from callcenter.media.links import LinkSigner, recording_link_path
from callcenter.media.ranges import ranged_response
from callcenter.media.recordings import open_recording

router = APIRouter(tags=["media"])


def _stored_path(engine: Engine, code: str) -> str:
    with read_scope(engine) as session:
        try:
            request = get_request_by_code(session=session, code=code)
        except NoSuchRequest:
            raise NoRecording("no recording for this code") from None
        if not request.recording_path:
            raise NoRecording("no recording for this code")
        return request.recording_path


async def _serve(services: Services, code: str, request: Request, *, cache: str) -> Response:
    if len(code) > 16 or not code.isascii():
        raise NoRecording("no recording for this code")
    stored = await services.pools.store.run(_stored_path, services.engine, code)
    source = await open_recording(services.settings, stored)
    try:
        return ranged_response(source, request.headers.get("range"), cache=cache)
    except RangeNotSatisfiable as exc:
        return JSONResponse(exc.as_dict(), status_code=416,
                            headers={"Content-Range": f"bytes */{exc.size}"})


@router.get("/api/requests/{code}/recording", summary="Stream a request's recording")
async def request_recording(code: str, request: Request, services: AppServices,
                            user: StaffUser) -> Response:
    return await _serve(services, code, request, cache="private, no-store")


@router.get("/media/recordings/{code}", summary="A recording by its signed link",
            include_in_schema=False)
async def signed_recording(code: str, request: Request, services: AppServices,
                           exp: str | None = Query(None, max_length=12),
                           sig: str | None = Query(None, max_length=128)) -> Response:
    LinkSigner.from_settings(services.settings).verify(
        recording_link_path(code), exp=exp, sig=sig)
    return await _serve(services, code, request, cache="private, max-age=300")
