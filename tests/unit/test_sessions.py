"""Sessions are rows: logout, a password change and disabling the user end them (pages,
APIs and open websockets), and an idle session dies. On each backend.

Before sessions were rows, the cookie was a signed ``{uid, csrf}``: a copy taken before
logout stayed valid for 12 hours, whatever the user did."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.websockets import WebSocketDisconnect
from support.panels import Panels, log_in

from callcenter.auth.models import StaffSession
from callcenter.clock import utcnow
from callcenter.db.engine import session_scope
from callcenter.users.services import change_password, set_active


@pytest.fixture
def panel_settings() -> dict[str, Any]:
    """The shared ``panels`` app, with a short idle timeout and websocket re-check."""
    return {"session_idle_minutes": 30, "session_recheck_seconds": 0.2}


def steal_cookie(panels: Panels, username: str) -> str:
    log_in(panels.client, username)
    return panels.client.cookies["cc_session"]


def replay(panels: Panels, cookie: str) -> int:
    """An attacker's request with a copied cookie (no redirect followed)."""
    panels.client.cookies.clear()
    panels.client.cookies.set("cc_session", cookie)
    return panels.client.get("/api/tasks").status_code


def test_logout_revokes_the_session_a_copied_cookie_names(panels: Panels) -> None:
    """Tried: copy ali's cookie, ali signs out, the copy is sent again."""
    cookie = steal_cookie(panels, "ali")
    assert replay(panels, cookie) == 200
    csrf = log_in(panels.client, "ali")  # a second session of ali's: must survive
    second = panels.client.cookies["cc_session"]
    panels.client.cookies.set("cc_session", cookie)
    page = panels.client.get("/agent")
    token = page.text.split('"csrf": "')[1].split('"')[0]
    assert token != csrf
    out = panels.client.post("/logout", headers={"X-CSRF-Token": token},
                             follow_redirects=False)
    assert out.status_code == 303
    assert replay(panels, cookie) == 401
    assert replay(panels, second) == 200  # only the session signed out ended


@pytest.mark.parametrize("change", ["password", "disable"])
def test_password_change_and_disabling_end_every_session(panels: Panels, change: str
                                                         ) -> None:
    """Tried: two sessions of ali's, then ``callcenter users passwd`` / ``disable``."""
    first, second = steal_cookie(panels, "ali"), steal_cookie(panels, "ali")
    assert replay(panels, first) == replay(panels, second) == 200
    with session_scope(panels.services.engine) as session:
        if change == "password":
            change_password(session=session, username="ali", password="a-new-passw0rd")
        else:
            set_active(session=session, username="ali", active=False)
    assert replay(panels, first) == replay(panels, second) == 401
    with session_scope(panels.services.engine) as session:
        rows = session.exec(select(StaffSession)).all()
        assert {row.revoked_why for row in rows} == {change if change == "password"
                                                     else "disabled"}


def test_an_idle_session_ends(panels: Panels) -> None:
    """Tried: a session last used 31 minutes ago with a 30-minute idle timeout."""
    cookie = steal_cookie(panels, "sara")
    with session_scope(panels.services.engine) as session:
        row = session.exec(select(StaffSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=31)
        session.add(row)
    assert replay(panels, cookie) == 401


def test_a_used_session_stays_alive_past_the_idle_timeout(panels: Panels) -> None:
    cookie = steal_cookie(panels, "sara")
    with session_scope(panels.services.engine) as session:
        row = session.exec(select(StaffSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=29)
        session.add(row)
    assert replay(panels, cookie) == 200  # used now: last_seen moves on
    with session_scope(panels.services.engine) as session:
        row = session.exec(select(StaffSession)).one()
        assert utcnow() - row.last_seen_at < timedelta(minutes=1)


@pytest.mark.parametrize("path", ["/agent/ws", "/supervisor/ws"])
def test_an_open_websocket_closes_when_its_session_ends(panels: Panels, path: str) -> None:
    """Tried: a panel's websocket stays open while the user is disabled. Before, it kept
    receiving pops (the cookie was checked once, at connect)."""
    username = "ali" if path == "/agent/ws" else "sara"
    log_in(panels.client, username)
    with pytest.raises(WebSocketDisconnect) as closed, \
            panels.client.websocket_connect(path) as ws:
        ws.receive_json()  # the first state/picture message: connected
        with session_scope(panels.services.engine) as session:
            set_active(session=session, username=username, active=False)
        while True:
            ws.receive_json()  # pushes until the re-check (0.2 s) closes it
    assert closed.value.code == 4401


def test_dead_session_rows_are_pruned_after_thirty_days_and_live_ones_never(
        panels: Panels) -> None:
    """Tried: rows revoked, idle and past their maximum age, 29 and 31 days ago, beside a
    live session; then a prune with ``keep=0`` (the most eager) must still spare the live
    one. Before, nothing deleted a session row: the table grew with every login."""
    from callcenter.auth.store import prune_sessions

    cookie = steal_cookie(panels, "ali")
    now = utcnow()
    idle = timedelta(minutes=30)
    engine = panels.services.engine
    with session_scope(engine) as session:
        before = {row.id for row in session.exec(select(StaffSession))}
        user_id = panels.user_ids["ali"]
        for days, kind in [(d, k) for d in (29, 31) for k in ("revoked", "idle", "old")]:
            at = now - timedelta(days=days)
            row = StaffSession(id=f"{kind}-{days}", user_id=user_id, csrf_token="x",
                               created_at=at - timedelta(hours=12), last_seen_at=at)
            if kind == "revoked":
                row.created_at, row.last_seen_at, row.revoked_at = now, now, at
            elif kind == "idle":
                row.created_at = at  # seen last (and made) at ``at``: idle ever since
            session.add(row)
    with session_scope(engine) as session:
        assert prune_sessions(session=session, now=now, idle=idle) == 3
    with session_scope(engine) as session:
        left = {row.id for row in session.exec(select(StaffSession))}
    assert left == before | {"revoked-29", "idle-29", "old-29"}
    with session_scope(engine) as session:
        prune_sessions(session=session, now=now, idle=idle, keep=timedelta(0))
    with session_scope(engine) as session:
        left = {row.id for row in session.exec(select(StaffSession))}
    assert left <= before and left  # the 29-day rows went; the live session stayed
    assert replay(panels, cookie) == 200
