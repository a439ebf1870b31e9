"""Open311 with photos: a multipart POST carries one photo in ``media`` (checked by its
bytes and size before anything is filed); GET answers a signed ``media_url``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from callcenter.app import create_app
from callcenter.attachments.models import Attachment
from callcenter.cases.models import CitizenRequest
from callcenter.settings import Settings

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x33" * 800
FORM = {"api_key": "app-key", "service_code": "waste", "phone": "09131234567",
        "description": "زباله کنار خیابان"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Engine, Path]]:
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path / 'o.db'}",
                        data_dir=tmp_path, attachment_max_bytes=10_000,
                        open311_clients={"app-key": {"name": "yazd-app", "channel": "app"}})
    application = create_app(settings, start_parts=False)
    transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40011))
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=transport, base_url="http://testserver") as client:
        yield client, application.state.services.engine, tmp_path
    application.state.services.engine.dispose()


async def test_multipart_post_stores_the_photo_and_get_links_it(
    app: tuple[httpx.AsyncClient, Engine, Path],
) -> None:
    """Tried: a multipart POST with a JPEG in ``media``; then GET the request. Expect
    201, the photo on disk as an attachment of the filed request, and ``media_url`` a
    signed link that serves those bytes."""
    client, engine, tmp_path = app
    resp = await client.post("/open311/v2/requests.json", data=FORM,
                             files={"media": ("p.jpg", JPEG, "image/jpeg")})
    assert resp.status_code == 201, resp.text
    code = resp.json()[0]["service_request_id"]
    with Session(engine) as s:
        request = s.exec(select(CitizenRequest)).one()
        [photo] = s.exec(select(Attachment)).all()
        assert photo.request_id == request.id and photo.channel == "app"
        assert (tmp_path / "attachments" / photo.path).read_bytes() == JPEG
    [public] = (await client.get(f"/open311/v2/requests/{code}.json")).json()
    media = public["media_url"]
    assert media and "sig=" in media
    got = await client.get(media.removeprefix("http://127.0.0.1:8137"))
    assert got.status_code == 200 and got.content == JPEG


@pytest.mark.parametrize(("content", "why"), [
    (b"%PDF-1.4 " + b"x" * 100, "not a JPEG"), (JPEG + b"\0" * 10_000, "too large")])
async def test_a_bad_photo_files_nothing(app: tuple[httpx.AsyncClient, Engine, Path],
                                         content: bytes, why: str) -> None:
    """Tried: a PDF in ``media``, then a JPEG over the 10 KB limit. Expect 422 saying
    why, and no request and no attachment stored."""
    client, engine, _tmp = app
    resp = await client.post("/open311/v2/requests.json", data=FORM,
                             files={"media": ("p.jpg", content, "image/jpeg")})
    assert resp.status_code == 422, resp.text
    assert why in resp.text
    with Session(engine) as s:
        assert s.exec(select(CitizenRequest)).all() == []
        assert s.exec(select(Attachment)).all() == []
