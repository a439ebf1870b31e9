"""What the panel, auth and case API tests share: an app over each backend with staff
accounts and the test hooks mounted, and a login helper (the real form, CSRF token and
argon2 included). The ``panels`` fixture itself is in ``tests/unit/conftest.py``."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from callcenter.app import create_app
from callcenter.compose import Services
from callcenter.db.engine import session_scope
from callcenter.settings import Settings
from callcenter.users.services import create_user
from support.hooks import router as hooks_router

with warnings.catch_warnings():
    # Starlette asks for httpx2; the pinned httpx works and is what the project ships.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct-horse-9"
STAFF = [
    ("ali", "agent", "2101", "علی رضایی"),
    ("reza", "agent", "2102", "رضا احمدی"),
    ("sara", "supervisor", None, "سارا کریمی"),
    ("root", "admin", None, "مدیر"),
]


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test", "data_dir": tmp_path, "database_url": database_url,
        "secret_key": "test-secret-key-for-panels", "ami_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    client.cookies.clear()
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": login_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/agent" if username in ("ali", "reza") else "/supervisor")
    found = re.search(r'"csrf": "([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


@dataclass
class Panels:
    app: FastAPI
    client: TestClient
    user_ids: dict[str, int] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def as_user(self, username: str) -> dict[str, str]:
        """Sign in as ``username``; returns headers carrying its CSRF token."""
        return {"X-CSRF-Token": log_in(self.client, username)}

    def publish(self, name: str, **body: Any) -> None:
        response = self.client.post(f"/test/events/{name}", json=body)
        assert response.status_code == 200, response.text


def build_panels(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Panels]:
    app = create_app(settings_for(database_url, tmp_path, **overrides), start_parts=False,
                     extra_routers=[hooks_router])
    try:
        yield from _serve(app)
    finally:
        app.state.services.engine.dispose()  # close pooled connections (PostgreSQL)


def _serve(app: FastAPI) -> Iterator[Panels]:
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        panels = Panels(app=app, client=client)
        with session_scope(app.state.services.engine) as session:
            for username, role, extension, name in STAFF:
                user = create_user(session=session, username=username, password=PASSWORD,
                                   role=role, extension=extension, full_name=name)
                session.flush()
                assert user.id is not None
                panels.user_ids[username] = user.id
        yield panels


def ringing(linkedid: str = "1700000000.1", agent: str = "2101",
            caller: str = "09131234567", **extra: Any) -> dict[str, Any]:
    body = {"linkedid": linkedid, "agent": agent, "interface": f"PJSIP/{agent}",
            "caller": caller, "caller_name": "CALLER", "queue": "citizen-requests",
            "ivr_path": ["menu:0"]}
    body.update(extra)
    return body
