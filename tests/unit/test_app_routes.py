"""What ``create_app`` mounts: production never mounts the test hooks; tests mount them
through ``extra_routers``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from support.hooks import router as hooks_router

from callcenter.app import create_app
from callcenter.settings import Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette asks for httpx2 (see support/panels.py)
    from starlette.testclient import TestClient


def feed_queue(tmp_path: Path, **kwargs: Any) -> tuple[int, Any]:
    """POST one queue event to the hook in the "test" environment (where it answers)."""
    settings = Settings(environment="test", data_dir=tmp_path,
                        database_url=f"sqlite:///{tmp_path / 'r.db'}")
    app = create_app(settings, start_parts=False, **kwargs)
    try:
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200  # the app's own routes are there
            response = client.post("/test/queue-events", json=[
                {"Event": "QueueMemberAdded", "Queue": "citizen-requests",
                 "Interface": "PJSIP/2101", "Status": "1", "Paused": "0"}])
            return response.status_code, response.json()
    finally:
        app.state.services.engine.dispose()


def test_production_app_has_no_test_hooks(tmp_path: Path) -> None:
    """Tried: the app as ``callcenter serve`` builds it, in the "test" environment where
    the hooks would answer; expect 404: the route is not there at all."""
    status, _ = feed_queue(tmp_path)
    assert status == 404


def test_tests_mount_the_hooks_through_extra_routers(tmp_path: Path) -> None:
    """Tried: the same app with the hooks as an extra router; expect the hook to answer
    and feed a queue state with the event's queue."""
    status, body = feed_queue(tmp_path, extra_routers=[hooks_router])
    assert (status, body) == (200, {"queues": ["citizen-requests"]})
