"""Attachments for staff: a photo uploaded with a walk-in request (checked by size and
bytes), listed on the case view, served only under its own request, shown on the pop."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from support.panels import Panels, ringing

from callcenter.attachments.models import Attachment
from callcenter.attachments.services import add_location
from callcenter.cases.models import CitizenRequest
from callcenter.cases.services import create_request
from callcenter.db.engine import session_scope

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x22" * 500


def _walk_in(panels: Panels, headers: dict[str, str]) -> str:
    response = panels.client.post("/api/agent/walk-in", headers=headers, json={
        "phone": "09131234567", "category_code": "streets", "description": "چاله",
        "neighbourhood_code": None, "citizen_name": None})
    assert response.status_code == 200, response.text
    return str(response.json()["tracking_code"])


def test_walk_in_photo_is_checked_stored_listed_and_served(panels: Panels) -> None:
    """Tried: a JPEG, a PDF renamed .jpg, a photo over the limit, the file under another
    request's code, without the CSRF header. Expect 201 for the JPEG (on the case view
    with a staff URL that returns the bytes), 422 with the reason for the others, 404
    across requests, 403 without CSRF; only one attachment row."""
    client = panels.client
    headers = panels.as_user("ali")
    code = _walk_in(panels, headers)
    url = f"/api/cases/{code}/attachments"
    ok = client.post(url, headers=headers, files={"photo": ("p.jpg", JPEG, "image/jpeg")})
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert (body["kind"], body["content_type"], body["channel"]) == (
        "photo", "image/jpeg", "walk_in")
    pdf = client.post(url, headers=headers,
                      files={"photo": ("p.jpg", b"%PDF-1.4 " + b"x" * 50, "image/jpeg")})
    assert pdf.status_code == 422 and pdf.json()["details"]["reason"] == "wrong-type"
    limit = panels.services.settings.attachment_max_bytes
    big = client.post(url, headers=headers,
                      files={"photo": ("b.jpg", JPEG + b"\0" * limit, "image/jpeg")})
    assert big.status_code == 422 and big.json()["details"]["reason"] == "too-large"
    assert client.post(url, files={"photo": ("p.jpg", JPEG, "image/jpeg")}).status_code == 403
    detail = client.get(f"/api/cases/{code}").json()
    [shown] = detail["attachments"]
    assert shown["url"] == f"{url}/{body['id']}"
    got = client.get(shown["url"])
    assert got.status_code == 200 and got.content == JPEG
    other = _walk_in_other(panels, headers)
    assert client.get(f"/api/cases/{other}/attachments/{body['id']}").status_code == 404
    with session_scope(panels.services.engine) as session:
        assert len(session.exec(select(Attachment)).all()) == 1


def _walk_in_other(panels: Panels, headers: dict[str, str]) -> str:
    response = panels.client.post("/api/agent/walk-in", headers=headers, json={
        "phone": "09131112233", "category_code": "waste", "description": "زباله",
        "neighbourhood_code": None, "citizen_name": None})
    assert response.status_code == 200, response.text
    return str(response.json()["tracking_code"])


def _next(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(10):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message")


def test_pop_shows_the_callers_photos_and_locations(panels: Panels) -> None:
    """Tried: the caller has a request with a location attached; they call. Expect the
    pop's request row to carry the location (latitude/longitude, no URL)."""
    with session_scope(panels.services.engine) as session:
        request = create_request(session=session, phone="+989131234567", channel="social",
                                 category_code="waste", description="زباله")
        session.flush()
        add_location(session=session, latitude=31.9, longitude=54.35, channel="social",
                     request_id=request.id)
        code = request.tracking_code
    panels.as_user("ali")
    with panels.client.websocket_connect("/agent/ws") as ws:
        panels.publish("AgentRinging", **ringing(linkedid="L-photo", agent="2101"))
        history = _next(ws, "pop_history")
    [row] = [r for r in history["requests"] if r["tracking_code"] == code]
    [where] = row["attachments"]
    assert (where["kind"], where["latitude"], where["longitude"], where["url"]) == (
        "location", 31.9, 54.35, None)
    with session_scope(panels.services.engine) as session:
        assert session.exec(select(CitizenRequest)).one().tracking_code == code
