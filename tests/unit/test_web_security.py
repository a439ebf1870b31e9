"""Browser headers on every response, docs and detailed health behind a login in
production, X-Forwarded-For believed only from configured proxies, no phone numbers in
the access log."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.panels import Panels, build_panels

from callcenter.settings import secret_keys
from callcenter.web.security import PhoneQueryMask


def production_secrets() -> dict[str, str]:
    values = {key: secrets.token_urlsafe(32) for key in secret_keys()}
    values["twilio_auth_token"] = secrets.token_hex(16)
    return values


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Panels]:
    for panels in build_panels(f"sqlite:///{tmp_path / 'p.db'}", tmp_path,
                               environment="production", **production_secrets()):
        panels.client.base_url = "https://testserver"  # Secure cookies need https
        yield panels


@pytest.fixture
def panels(tmp_path: Path) -> Iterator[Panels]:
    yield from build_panels(f"sqlite:///{tmp_path / 'd.db'}", tmp_path,
                            trusted_proxies=["10.0.0.0/8"], status_lookups_per_minute=2)


def test_every_response_carries_the_hardening_headers(panels: Panels) -> None:
    """Tried: the login page, a 404, an API 401, a static file, /health. Before: none of
    the four headers was sent, so any site could frame the panels (clickjacking)."""
    for path in ["/login", "/nope", "/api/tasks", "/static/app.css", "/health"]:
        headers = panels.client.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, path
        assert "unsafe-inline" not in csp, path


def test_production_hides_docs_and_health_details_from_anonymous(production: Panels
                                                                 ) -> None:
    """Tried: /docs, /openapi.json, /redoc and /health anonymously in production, then
    signed in. Before, all were public: the API map and every part's host and port."""
    client = production.client
    client.cookies.clear()
    assert client.get("/docs", follow_redirects=False).status_code == 303
    assert client.get("/openapi.json", follow_redirects=False).status_code == 303
    assert client.get("/redoc").status_code == 404
    bare = client.get("/health")
    assert set(bare.json()) == {"status"}  # liveness only
    production.as_user("sara")
    assert "/api/cases" in client.get("/openapi.json").json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "parts" in client.get("/health").json()


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(panels: Panels) -> None:
    """Tried: the status page's per-address limit (2 a minute) with X-Forwarded-For set
    to a fresh address on every request, from an untrusted peer (the test client is
    127.0.0.1; the trusted proxies are 10.0.0.0/8). Before, uvicorn believed the header
    from any loopback peer, so each request got a fresh limiter key."""
    codes = [panels.client.get("/status/1234567.json",
                               headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(4)]
    assert codes[2:] == [429, 429]


def test_client_ip_takes_the_rightmost_untrusted_hop() -> None:
    from types import SimpleNamespace

    from starlette.requests import Request

    from callcenter.ratelimit import client_ip

    settings = SimpleNamespace(trusted_proxies=["10.0.0.0/8"])
    app = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(settings=settings)))

    def ip(peer: str, forwarded: str) -> str:
        scope = {"type": "http", "client": (peer, 1), "app": app, "headers": [
            (b"x-forwarded-for", forwarded.encode())]}
        return client_ip(Request(scope))

    assert ip("10.1.1.1", "6.6.6.6, 203.0.113.9, 10.2.2.2") == "203.0.113.9"
    assert ip("127.0.0.1", "203.0.113.9") == "127.0.0.1"  # not a trusted proxy
    assert ip("10.1.1.1", "not-an-ip") == "10.1.1.1"


def test_access_log_masks_phone_numbers() -> None:
    """Tried: uvicorn's access-log record for ``GET /api/cases?phone=09131234567``
    (also ``+98...`` url-encoded); the line keeps the last 3 digits only."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/cases?status=new&phone=09131234567", "1.1", 200), None)
    assert PhoneQueryMask().filter(record)
    line = record.getMessage()
    assert "09131234567" not in line and "567" in line and "status=new" in line
    record.args = ("1", "GET", "/api/cases?phone=%2B989131234567", "1.1", 200)
    PhoneQueryMask().filter(record)
    assert "9131234" not in record.getMessage()
