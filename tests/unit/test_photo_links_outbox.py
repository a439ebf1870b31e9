"""Photos filed on every channel reach Shahrbin as signed links, as the bot's do: an
Open311 POST with ``media`` and the walk-in form's photo (uploaded once the request is
filed) each put the photo's id on the request's outbox item; the deliverer sends
``Attachments``, links signed at send time that serve the file and are refused once
altered. On SQLite and PostgreSQL (the ``panels`` app)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlmodel import Session, col, select
from support.fake_shahrbin import Answer, RecordingServer
from support.panels import Panels

from callcenter.attachments.models import Attachment
from callcenter.media.links import LinkSigner
from callcenter.outbox.models import OutboxItem
from callcenter.settings import Settings
from crm_bridge.config import load_shahrbin_config
from crm_bridge.deliverer import OutboxDeliverer

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x44" * 900
PNG = b"\x89PNG\r\n\x1a\n" + b"\x55" * 700
BASE = "https://cc137.yazd.example"


@pytest.fixture
def panel_settings() -> dict[str, Any]:
    return {"public_base_url": BASE, "attachment_max_bytes": 10_000,
            "open311_clients": {"app-key": {"name": "yazd-app", "channel": "app"}}}


def deliver(panels: Panels, answers: int) -> list[dict[str, Any]]:
    """One round of the Shahrbin deliverer (with the app's link signer); the bodies."""
    services = panels.services
    with RecordingServer([Answer(201, {}) for _ in range(answers)]) as server:
        async def run() -> None:
            async with httpx.AsyncClient(timeout=5) as http:
                deliverer = OutboxDeliverer(
                    engine=services.engine, token="s3cret", http=http, max_attempts=3,
                    config=load_shahrbin_config(Settings(shahrbin_base_url=server.url + "/api")),
                    base_backoff_seconds=5, max_backoff_seconds=20)
                deliverer.links = LinkSigner.from_settings(services.settings)
                await deliverer.deliver_due()
        asyncio.run(run())
    return [r.json() for r in server.requests]


def items(panels: Panels) -> list[OutboxItem]:
    with Session(panels.services.engine) as s:
        return list(s.exec(select(OutboxItem).order_by(col(OutboxItem.id))).all())


def photo_ids(panels: Panels) -> list[int]:
    with Session(panels.services.engine) as s:
        return [a.id for a in s.exec(select(Attachment).order_by(col(Attachment.id))).all()
                if a.id is not None]


def assert_serves(panels: Panels, url: str, content: bytes, photo_id: int) -> None:
    """The link serves ``content``; the same link altered (signature, expiry, another
    id) is 403."""
    link = urlsplit(url)
    assert (f"{link.scheme}://{link.netloc}", link.path) == (
        BASE, f"/media/attachments/{photo_id}")
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    client = panels.client
    got = client.get(f"{link.path}?{link.query}")
    assert got.status_code == 200 and got.content == content
    bad_sig = {**query, "sig": ("0" if query["sig"][0] != "0" else "1") + query["sig"][1:]}
    later = {**query, "exp": str(int(query["exp"]) + 3600)}
    for path, params in ((link.path, bad_sig), (link.path, later),
                         (f"/media/attachments/{photo_id + 1}", query)):
        assert client.get(f"{path}?{urlencode(params)}").status_code == 403


def test_an_open311_photo_reaches_shahrbin_as_a_signed_link(panels: Panels) -> None:
    """Tried: an Open311 multipart POST with a JPEG in ``media``, then a deliverer round.
    Expect the request_created item to name the photo and its body to carry one
    ``Attachments`` link that serves the JPEG and 403s when altered."""
    resp = panels.client.post("/open311/v2/requests.json", data={
        "api_key": "app-key", "service_code": "waste", "phone": "09131234567",
        "description": "زباله کنار خیابان"}, files={"media": ("p.jpg", JPEG, "image/jpeg")})
    assert resp.status_code == 201, resp.text
    [photo_id] = photo_ids(panels)
    [created] = items(panels)
    assert created.kind == "request_created"
    assert created.payload["attachment_ids"] == [photo_id]
    [body] = deliver(panels, 1)
    assert body["RequestNo"] == resp.json()[0]["service_request_id"]
    [url] = body["Attachments"]
    assert_serves(panels, url, JPEG, photo_id)


def _walk_in(panels: Panels, headers: dict[str, str]) -> str:
    response = panels.client.post("/api/agent/walk-in", headers=headers, json={
        "phone": "09131234567", "category_code": "streets", "description": "چاله",
        "neighbourhood_code": None, "citizen_name": None})
    assert response.status_code == 200, response.text
    return str(response.json()["tracking_code"])


def test_walk_in_photos_reach_shahrbin_as_signed_links(panels: Panels) -> None:
    """Tried: the walk-in form files a request and uploads its photo (as agent.js does:
    the request first, then the photo), a deliverer round; then a second photo after
    Shahrbin already has the request, another round. Expect the first photo on the
    request_created body, the second on a request_updated item whose body carries both
    links; each link serves its file and 403s when altered."""
    headers = panels.as_user("ali")
    code = _walk_in(panels, headers)
    url = f"/api/cases/{code}/attachments"
    first = panels.client.post(url, headers=headers,
                               files={"photo": ("p.jpg", JPEG, "image/jpeg")})
    assert first.status_code == 201, first.text
    [created] = deliver(panels, 1)
    assert created["RequestNo"] == code and created["EventKind"] == "request_created"
    [link] = created["Attachments"]
    assert_serves(panels, link, JPEG, first.json()["id"])

    second = panels.client.post(url, headers=headers,
                                files={"photo": ("q.png", PNG, "image/png")})
    assert second.status_code == 201, second.text
    assert [i.kind for i in items(panels)] == ["request_created", "request_updated"]
    [updated] = deliver(panels, 1)
    assert updated["EventKind"] == "request_updated"
    links = updated["Attachments"]
    assert len(links) == 2
    assert_serves(panels, links[0], JPEG, first.json()["id"])
    assert_serves(panels, links[1], PNG, second.json()["id"])
