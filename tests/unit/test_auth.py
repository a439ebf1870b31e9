"""Login, sessions, CSRF and roles on every route and websocket."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.websockets import WebSocketDisconnect
from support.panels import (
    PASSWORD,
    Panels,
    build_panels,
    log_in,
    login_token,
)

from callcenter.auth.ratelimit import LoginRateLimiter

HTML_ROUTES = ["/agent", "/supervisor"]
API_GETS = ["/api/cases", "/api/cases/1234567", "/api/tasks", "/api/supervisor/live",
            "/api/supervisor/today"]
API_POSTS = ["/api/cases", "/api/cases/1234567/status", "/api/agent/queue/join",
             "/api/agent/queue/leave", "/api/agent/break", "/api/agent/resume",
             "/api/agent/ready", "/api/agent/requests", "/api/agent/walk-in",
             "/api/tasks/1/assign", "/api/supervisor/callbacks"]
SOCKETS = ["/agent/ws", "/supervisor/ws"]


def test_anonymous_never_gets_200(panels: Panels) -> None:
    client = panels.client
    for path in HTML_ROUTES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    for path in API_GETS:
        assert client.get(path).status_code == 401, path
    for path in API_POSTS:
        assert client.post(path, json={}).status_code == 401, path
    for path in SOCKETS:
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(path) as ws:
            ws.receive_json()
        assert closed.value.code == 4401, path


def test_login_sets_hardened_session_cookie(panels: Panels) -> None:
    client = panels.client
    response = client.post("/login", data={"username": "ali", "password": PASSWORD,
                                           "csrf_token": login_token(client)},
                           follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent"
    cookie = response.headers["set-cookie"]
    assert "cc_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # only in production
    assert client.get("/agent").status_code == 200


def test_secure_flag_in_production(tmp_path: Path) -> None:
    from starlette.responses import Response
    from support.panels import settings_for

    from callcenter.auth.sessions import SessionCodec, SessionData

    # model_copy skips the production secret checks, which are not what is tested here.
    settings = settings_for(f"sqlite:///{tmp_path}/x.db", tmp_path).model_copy(
        update={"environment": "production"})
    response = Response()
    SessionCodec(settings).set_session(response, SessionData(user_id=1, csrf_token="x"))
    assert "Secure" in response.headers["set-cookie"]


def test_login_form_without_csrf_is_refused(panels: Panels) -> None:
    client = panels.client
    login_token(client)
    response = client.post("/login", data={"username": "ali", "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "cc_session" not in response.headers.get("set-cookie", "")


def test_wrong_password_then_rate_limit(panels: Panels) -> None:
    client = panels.client
    for _ in range(5):
        response = client.post("/login", data={"username": "ali", "password": "wrong-one",
                                               "csrf_token": login_token(client)})
        assert response.status_code == 401
    response = client.post("/login", data={"username": "ali", "password": PASSWORD,
                                           "csrf_token": login_token(client)})
    assert response.status_code == 429  # even the right password waits now
    assert int(response.headers["retry-after"]) > 0


def test_rate_limiter_window_and_reset() -> None:
    now = [1000.0]
    limiter = LoginRateLimiter(max_failures=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("user:a", "ip:1") == 0
        limiter.failed("user:a", "ip:1")
    assert limiter.retry_after("user:a") == pytest.approx(60)
    assert limiter.retry_after("ip:1", "user:b") > 0  # the address is blocked for all names
    now[0] += 61
    assert limiter.retry_after("user:a", "ip:1") == 0
    limiter.failed("user:a")
    limiter.succeeded("user:a")
    assert limiter.retry_after("user:a") == 0


def test_forged_or_tampered_cookie_is_anonymous(panels: Panels) -> None:
    client = panels.client
    log_in(client, "ali")
    good = client.cookies["cc_session"]
    client.cookies.set("cc_session", good[:-3] + "AAA")
    assert client.get("/agent", follow_redirects=False).status_code == 303
    client.cookies.set("cc_session", "eyJ1aWQiOjN9.forged.sig")
    assert client.get("/api/tasks").status_code == 401


def test_csrf_required_on_every_unsafe_api_call(panels: Panels) -> None:
    client = panels.client
    headers = panels.as_user("sara")
    for path in API_POSTS:
        response = client.post(path, json={})
        assert response.status_code == 403, path
        assert "CSRF" in response.text
    wrong = client.post("/api/supervisor/callbacks", json={"linkedid": "x"},
                        headers={"X-CSRF-Token": "not-the-token"})
    assert wrong.status_code == 403
    right = client.post("/api/supervisor/callbacks", json={"linkedid": "x"}, headers=headers)
    assert right.status_code == 404  # passed CSRF; the call is unknown


def test_logout_needs_csrf_and_ends_session(panels: Panels) -> None:
    client = panels.client
    token = log_in(client, "ali")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/agent", follow_redirects=False).status_code == 303


def test_roles_on_pages_and_api(panels: Panels) -> None:
    client = panels.client
    panels.as_user("ali")
    assert client.get("/agent").status_code == 200
    assert client.get("/supervisor").status_code == 403
    assert client.get("/api/supervisor/live").status_code == 403
    assert client.get("/api/cases").status_code == 200
    panels.as_user("sara")
    assert client.get("/supervisor").status_code == 200
    assert client.get("/agent").status_code == 403  # no phone: the agent page is not hers
    assert client.get("/api/cases").status_code == 200
    panels.as_user("root")
    assert client.get("/supervisor").status_code == 200
    assert client.get("/api/supervisor/today").status_code == 200


def test_roles_on_websockets(panels: Panels) -> None:
    client = panels.client
    panels.as_user("ali")
    with pytest.raises(WebSocketDisconnect) as closed, \
            client.websocket_connect("/supervisor/ws") as ws:
        ws.receive_json()
    assert closed.value.code == 4403
    with client.websocket_connect("/agent/ws") as ws:
        assert ws.receive_json()["extension"] == "2101"


def test_websocket_from_another_site_is_refused(panels: Panels) -> None:
    client = panels.client
    panels.as_user("ali")
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(
            "/agent/ws", headers={"origin": "http://evil.example"}) as ws:
        ws.receive_json()
    assert closed.value.code == 4403
    with client.websocket_connect("/agent/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "state"


def test_deactivated_user_loses_session_at_once(panels: Panels) -> None:
    from callcenter.db.engine import session_scope
    from callcenter.users.models import User

    client = panels.client
    panels.as_user("ali")
    with session_scope(panels.services.engine) as session:
        user = session.get(User, panels.user_ids["ali"])
        assert user is not None
        user.active = False
        session.add(user)
    assert client.get("/api/tasks").status_code == 401


def test_login_next_is_never_an_open_redirect(panels: Panels) -> None:
    client = panels.client
    for target, expected in [("/api/cases", "/api/cases"), ("//evil.example/x", "/agent"),
                             ("https://evil.example", "/agent"), ("/\\evil", "/agent")]:
        client.cookies.clear()
        response = client.post("/login", data={"username": "ali", "password": PASSWORD,
                                               "csrf_token": login_token(client),
                                               "next": target}, follow_redirects=False)
        assert response.headers["location"] == expected, target


def test_english_switch_and_persian_default(panels: Panels) -> None:
    client = panels.client
    page = client.get("/login")
    assert 'dir="rtl"' in page.text and 'lang="fa"' in page.text and "ورود" in page.text
    page = client.get("/login?lang=en")
    assert 'dir="ltr"' in page.text and "Sign in" in page.text
    assert 'lang="en"' in client.get("/login").text  # remembered in the cc_lang cookie


def test_test_hooks_absent_outside_test_environment(tmp_path: Path) -> None:
    for panels_ in build_panels(f"sqlite:///{tmp_path}/d.db", tmp_path,
                                environment="development"):
        response = panels_.client.post("/test/events/AgentRinging", json={})
        assert response.status_code == 404
        assert "/test/events/{name}" not in panels_.client.get("/openapi.json").text
